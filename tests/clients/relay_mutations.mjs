// Relay's runtime commits the relay project's mutations, as relay-compiler wrote them, and the
// store shows what a page built on it would: records updated by id from each payload's `task`,
// edges added by @prependNode and removed by @deleteEdge, nothing written for a refused input.
//
// Usage: node relay_mutations.mjs URL ARTIFACTS TAG
// ARTIFACTS is relay-compiler's __generated__ directory (TypeScript with `import type` only:
// Node strips the types). Lists the tasks tagged TAG by title with TaskListQuery, then:
// create (prepended to that list), create with three wrong fields (refused), rename the second task
// listed, rename it again after another client (plain fetch) changed it (STALE_VERSION, with the
// current task), complete the new task, delete the renamed one (leaves the list), delete it again.
// GRAPHQL_AUTHORIZATION, when set, is sent as the Authorization header.
// Prints {"listed": [...], "steps": {name: {"response", "errors", "listed", "record"}},
// "requests": [...]}: `listed` is the list as the store holds it, `record` the step's task record.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import relay from 'relay-runtime';

const {
  ConnectionHandler,
  Environment,
  Network,
  RecordSource,
  Store,
  commitMutation,
  createOperationDescriptor,
  fetchQuery,
} = relay;

const [url, artifacts, tag] = process.argv.slice(2);
if (!url || !artifacts || !tag) {
  process.stderr.write('usage: node relay_mutations.mjs URL ARTIFACTS TAG\n');
  process.exit(2);
}

async function artifact(name) {
  return (await import(pathToFileURL(join(artifacts, `${name}.graphql.ts`)).href)).default;
}
const TaskListQuery = await artifact('TaskListQuery');
const TaskListCreateMutation = await artifact('TaskListCreateMutation');
const TaskRowRenameMutation = await artifact('TaskRowRenameMutation');
const TaskRowCompleteMutation = await artifact('TaskRowCompleteMutation');
const TaskRowDeleteMutation = await artifact('TaskRowDeleteMutation');

const headers = {
  'content-type': 'application/json',
  accept: 'application/graphql-response+json, application/json',
};
if (process.env.GRAPHQL_AUTHORIZATION) {
  headers.authorization = process.env.GRAPHQL_AUTHORIZATION;
}

async function post(query, variables) {
  const response = await fetch(url, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json() };
}

const requests = [];
const network = Network.create(async (params, variables) => {
  const { status, body } = await post(params.text, variables);
  requests.push({ name: params.name, status, errors: body.errors ?? null });
  return body;
});
const environment = new Environment({ network, store: new Store(new RecordSource()) });

function record(id) {
  const stored = environment.getStore().getSource().get(id);
  if (!stored) {
    return null;
  }
  const { title, status, version } = stored;
  return { id, title, status, version };
}

const variables = {
  first: 20,
  filter: { tags: [tag] },
  orderBy: [{ field: 'TITLE', direction: 'ASC' }],
};
const connectionId = ConnectionHandler.getConnectionID('client:root', 'TaskList_tasks', {
  filter: variables.filter,
  orderBy: variables.orderBy,
});

// The list as the store holds it: what usePaginationFragment would render.
function listed() {
  const source = environment.getStore().getSource();
  const connection = source.get(connectionId);
  if (!connection) {
    return null;
  }
  return connection.edges.__refs.map((edge) => record(source.get(edge).node.__ref));
}

function commit(mutation, mutationVariables) {
  return new Promise((resolve, reject) => {
    commitMutation(environment, {
      mutation,
      variables: mutationVariables,
      onCompleted: (response, errors) => resolve({ response, errors: errors ?? null }),
      onError: reject,
    });
  });
}

// A mutation's answer and what the store holds after it.
async function step(mutation, mutationVariables, id) {
  const { response, errors } = await commit(mutation, mutationVariables);
  return { response, errors, listed: listed(), record: id ? record(id) : null };
}

// Kept from garbage collection while the mutations run, as a mounted page keeps its query.
const retained = environment.retain(createOperationDescriptor(TaskListQuery, variables));
await fetchQuery(environment, TaskListQuery, variables).toPromise();
const before = listed();
const target = before[1];
const steps = {};

steps.create = await step(TaskListCreateMutation, {
  input: { clientMutationId: 'create-1', title: `${tag} 0, new`, tags: [tag] },
  connections: [connectionId],
});
const createdId = steps.create.response.createTask?.task?.id ?? null;
steps.create.record = createdId ? record(createdId) : null;

steps.refused = await step(TaskListCreateMutation, {
  input: {
    clientMutationId: 'create-2',
    title: 'x'.repeat(501),
    description: 'x'.repeat(10_001),
    tags: [tag],
    timeZone: 'Mars/Olympus',
  },
  connections: [connectionId],
});

steps.rename = await step(
  TaskRowRenameMutation,
  {
    input: {
      clientMutationId: 'rename-1',
      id: target.id,
      expectedVersion: target.version,
      title: `${target.title}, renamed`,
    },
  },
  target.id,
);

// Another client renames it meanwhile: this store still holds the version it renamed.
const elsewhere = await post(
  'mutation($input: UpdateTaskInput!) { updateTask(input: $input) { task { version } } }',
  { input: { id: target.id, title: `${target.title}, renamed elsewhere` } },
);
steps.stale = await step(
  TaskRowRenameMutation,
  {
    input: {
      id: target.id,
      expectedVersion: record(target.id).version,
      title: `${target.title}, renamed again`,
    },
  },
  target.id,
);
steps.stale.elsewhere = elsewhere;

steps.complete = await step(TaskRowCompleteMutation, { input: { id: createdId } }, createdId);

steps.delete = await step(TaskRowDeleteMutation, {
  input: { id: target.id },
  connections: [connectionId],
});
steps.deleteAgain = await step(TaskRowDeleteMutation, {
  input: { id: target.id },
  connections: [connectionId],
});

retained.dispose();
// Without Relay's own bookkeeping in the responses (fragment references and their owner).
const relayInternal = (key, value) => (key.startsWith('__') ? undefined : value);
process.stdout.write(JSON.stringify({ listed: before, steps, requests }, relayInternal));
