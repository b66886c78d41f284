// Mutations as a form sends them through Apollo Client: refused input comes back as data
// (`userErrors` bound to the input fields), not as errors, and a document with several mutations
// keeps the results of those that succeeded.
//
// Usage: node apollo_mutation_forms.mjs URL
// 1. createTask with three wrong fields (title, the second tag, recurrence), shown by the typed
//    form helper forms/task_form.ts (Node strips its types);
// 2. createTask then deleteTask (the update hook evicts the deleted task from the cache);
// 3. one document: createTask, and updateTask on the deleted task (refused, NOT_FOUND);
// 4. one document: completeTask on the new task, and updateTask of it with wrong fields.
// GRAPHQL_AUTHORIZATION, when set, is sent as the Authorization header.
// Prints {"refused", "deleted", "addAndRename", "completeAndRetitle": {"data", "error", ...},
// "requests": [{"operationName", "status", "errors"}]}: `error` is Apollo's result's error (null
// when it has none), `errors` the top-level errors of the HTTP response (null when absent).
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';

import { formState } from './forms/task_form.ts';

const [url] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: node apollo_mutation_forms.mjs URL\n');
  process.exit(2);
}

const USER_ERRORS = gql`
  fragment UserErrorFields on UserError {
    field
    message
    code
  }
`;
const CREATE = gql`
  mutation CreateTask($input: CreateTaskInput!) {
    createTask(input: $input) {
      clientMutationId
      task {
        id
        title
        status
        version
      }
      userErrors {
        ...UserErrorFields
      }
    }
  }
  ${USER_ERRORS}
`;
const DELETE = gql`
  mutation DeleteTask($input: DeleteTaskInput!) {
    deleteTask(input: $input) {
      deletedTaskId
      userErrors {
        ...UserErrorFields
      }
    }
  }
  ${USER_ERRORS}
`;
const ADD_AND_RENAME = gql`
  mutation AddAndRename($add: CreateTaskInput!, $rename: UpdateTaskInput!) {
    added: createTask(input: $add) {
      clientMutationId
      task {
        id
        title
        status
        version
      }
      userErrors {
        ...UserErrorFields
      }
    }
    renamed: updateTask(input: $rename) {
      clientMutationId
      task {
        id
        title
        version
      }
      userErrors {
        ...UserErrorFields
      }
    }
  }
  ${USER_ERRORS}
`;
const COMPLETE_AND_RETITLE = gql`
  mutation CompleteAndRetitle($complete: CompleteTaskInput!, $retitle: UpdateTaskInput!) {
    completeTask(input: $complete) {
      task {
        id
        status
        version
      }
      userErrors {
        ...UserErrorFields
      }
    }
    updateTask(input: $retitle) {
      task {
        id
        title
        version
      }
      userErrors {
        ...UserErrorFields
      }
    }
  }
  ${USER_ERRORS}
`;
const CACHED_TASK = gql`
  fragment CachedTask on Task {
    id
    title
    status
    version
  }
`;

const requests = [];

async function recordingFetch(input, init) {
  const { operationName } = JSON.parse(init.body);
  const response = await fetch(input, init);
  const body = await response.clone().json();
  requests.push({ operationName, status: response.status, errors: body.errors ?? null });
  return response;
}

const headers = {};
if (process.env.GRAPHQL_AUTHORIZATION) {
  headers.authorization = process.env.GRAPHQL_AUTHORIZATION;
}
const cache = new InMemoryCache();
const client = new ApolloClient({
  link: new HttpLink({ uri: url, headers, fetch: recordingFetch }),
  cache,
});

// What Apollo Client answers, with its default errorPolicy ("none": GraphQL errors reject).
async function mutate(options) {
  try {
    const result = await client.mutate(options);
    return { data: result.data ?? null, error: result.error ? String(result.error) : null };
  } catch (error) {
    return { data: null, error: `rejected: ${error}` };
  }
}

function cachedTask(id) {
  return cache.readFragment({ id: cache.identify({ __typename: 'Task', id }), fragment: CACHED_TASK });
}

function cachedTaskKeys() {
  return Object.keys(cache.extract()).filter((key) => key.startsWith('Task:'));
}

// 1. A form with three wrong fields.
const refused = await mutate({
  mutation: CREATE,
  variables: {
    input: {
      clientMutationId: 'form-1',
      title: 'x'.repeat(501),
      tags: ['apollo', ' '],
      recurrence: 'every blursday',
    },
  },
});
refused.form = refused.data ? formState(refused.data.createTask) : null;
refused.cachedTasks = cachedTaskKeys();

// 2. A task to delete, deleted.
const doomed = await mutate({ mutation: CREATE, variables: { input: { title: 'apollo doomed' } } });
const doomedId = doomed.data?.createTask?.task?.id ?? null;
const deleted = await mutate({
  mutation: DELETE,
  variables: { input: { id: doomedId } },
  update(cache, { data }) {
    const id = data?.deleteTask?.deletedTaskId;
    if (id) {
      cache.evict({ id: cache.identify({ __typename: 'Task', id }) });
      cache.gc();
    }
  },
});
deleted.id = doomedId;
deleted.cachedTasks = cachedTaskKeys();

// 3. One document: a new task, and a rename of the deleted one.
const addAndRename = await mutate({
  mutation: ADD_AND_RENAME,
  variables: {
    add: { clientMutationId: 'add-1', title: 'apollo added', tags: ['apollo'] },
    rename: { clientMutationId: 'rename-1', id: doomedId, title: 'apollo renamed' },
  },
});
const addedId = addAndRename.data?.added?.task?.id ?? null;
addAndRename.cached = addedId ? cachedTask(addedId) : null;
addAndRename.cachedTasks = cachedTaskKeys();

// 4. One document: complete the new task, and retitle it with wrong fields.
const completeAndRetitle = await mutate({
  mutation: COMPLETE_AND_RETITLE,
  variables: {
    complete: { id: addedId },
    retitle: { id: addedId, title: '   ', tags: ['apollo', ''] },
  },
});
completeAndRetitle.cached = addedId ? cachedTask(addedId) : null;

process.stdout.write(
  JSON.stringify({ refused, deleted, addAndRename, completeAndRetitle, requests }),
);
