// Pages through `tasks` with Apollo Client's relayStylePagination, renames a task, reads the cache.
//
// Usage: node apollo_relay_pagination.mjs URL TAG PAGE_SIZE NEW_TITLE
// Lists the tasks tagged TAG by title, PAGE_SIZE at a time: one query, then fetchMore from the
// merged list's endCursor until hasNextPage is false. Then renames the second task listed to
// NEW_TITLE with updateTask (its payload's `task` updates the cached task by id) and reads it
// back from the normalized cache only.
// GRAPHQL_AUTHORIZATION, when set, is sent as the Authorization header.
// Prints {"pages": [...], "merged": {...}, "mergedTitles": [...], "rename": {...}, "requests": [...]}.
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';
import { filter, firstValueFrom, timeout } from 'rxjs';

const [url, tag, pageSize, newTitle] = process.argv.slice(2);
if (!url || !tag || !Number(pageSize) || !newTitle) {
  process.stderr.write('usage: node apollo_relay_pagination.mjs URL TAG PAGE_SIZE NEW_TITLE\n');
  process.exit(2);
}
const MAX_PAGES = 50; // a server that never says hasNextPage: false must not loop forever
const SETTLE_MS = 10_000;

const TASKS = gql`
  query TaskPages($first: Int!, $after: String, $filter: TaskFilter, $orderBy: [TaskOrder!]) {
    tasks(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      edges {
        cursor
        node {
          id
          title
          version
        }
      }
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
    }
  }
`;
const RENAME = gql`
  mutation RenameTask($input: UpdateTaskInput!) {
    updateTask(input: $input) {
      clientMutationId
      task {
        id
        title
        version
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;
const TASK_TITLE = gql`
  fragment TaskTitle on Task {
    title
    version
  }
`;

const requests = [];

async function recordingFetch(input, init) {
  const { operationName, variables } = JSON.parse(init.body);
  const response = await fetch(input, init);
  requests.push({ operationName, after: variables.after ?? null, status: response.status });
  return response;
}

const headers = {};
if (process.env.GRAPHQL_AUTHORIZATION) {
  headers.authorization = process.env.GRAPHQL_AUTHORIZATION;
}
const cache = new InMemoryCache({
  typePolicies: {
    // One cached list per filter and order; `first` and `after` only page through it.
    Query: { fields: { tasks: relayStylePagination(['filter', 'orderBy']) } },
  },
});
const client = new ApolloClient({
  link: new HttpLink({ uri: url, headers, fetch: recordingFetch }),
  cache,
});

function summary(connection) {
  return {
    ids: connection.edges.map((edge) => edge.node.id),
    cursors: connection.edges.map((edge) => edge.cursor),
    pageInfo: connection.pageInfo,
  };
}

const variables = {
  first: Number(pageSize),
  filter: { tags: [tag] },
  orderBy: [{ field: 'TITLE', direction: 'ASC' }],
};
const watched = client.watchQuery({ query: TASKS, variables });
const watching = watched.subscribe({
  error: (error) => {
    process.stderr.write(`watched query failed: ${error}\n`);
    process.exit(1);
  },
});
// The watched query's next complete result for which `accept(data)` holds. Apollo delivers what
// fetchMore and mutations write to the cache to watchers after they resolve, so wait for it.
function settled(accept) {
  return firstValueFrom(
    watched.pipe(
      filter((result) => result.dataState === 'complete' && accept(result.data)),
      timeout(SETTLE_MS),
    ),
  );
}

const initial = await settled(() => true);
const pages = [summary(initial.data.tasks)];
let merged = initial.data.tasks;
while (merged.pageInfo.hasNextPage) {
  if (pages.length === MAX_PAGES) {
    throw new Error(`still hasNextPage after ${MAX_PAGES} pages: ${JSON.stringify(pages)}`);
  }
  const page = await watched.fetchMore({ variables: { after: merged.pageInfo.endCursor } });
  pages.push(summary(page.data.tasks));
  const seen = merged.edges.length + page.data.tasks.edges.length;
  merged = (await settled((data) => data.tasks.edges.length === seen)).data.tasks;
}

const target = merged.edges[1].node;
const mutated = await client.mutate({
  mutation: RENAME,
  variables: {
    input: {
      clientMutationId: 'rename-1',
      id: target.id,
      expectedVersion: target.version,
      title: newTitle,
    },
  },
});
const cacheId = cache.identify({ __typename: 'Task', id: target.id });
const watchedAfter = await settled((data) =>
  data.tasks.edges.some((edge) => edge.node.title === newTitle),
);
const cachedQuery = client.readQuery({ query: TASKS, variables });
const rename = {
  id: target.id,
  cacheId,
  mutation: mutated.data.updateTask,
  fragment: cache.readFragment({ id: cacheId, fragment: TASK_TITLE }),
  watchedTitles: watchedAfter.data.tasks.edges.map((edge) => edge.node.title),
  cachedQueryTitles: cachedQuery.tasks.edges.map((edge) => edge.node.title),
};
watching.unsubscribe();
process.stdout.write(
  JSON.stringify({
    pages,
    merged: summary(merged),
    mergedTitles: merged.edges.map((edge) => edge.node.title),
    rename,
    requests,
  }),
);
