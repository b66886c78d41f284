// Runs one query twice through Apollo Client's persisted-queries link; prints what went over HTTP.
//
// Usage: node apollo_persisted_queries.mjs URL get|post [ACCEPT]
// `get` sends hash-only requests by GET (useGETForHashedQueries), `post` by POST. ACCEPT overrides
// Apollo Client's own Accept header (e.g. `*/*`, as Apollo Client 3 sent). GRAPHQL_AUTHORIZATION,
// when set, is sent as the Authorization header. Prints {"data": [...], "requests": [...]}.
import { createHash } from 'node:crypto';

import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

const [url, method, accept] = process.argv.slice(2);
if (!url || !['get', 'post'].includes(method)) {
  process.stderr.write('usage: node apollo_persisted_queries.mjs URL get|post [ACCEPT]\n');
  process.exit(2);
}

const requests = [];

async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const sentQuery =
    init.method === 'GET'
      ? new URL(String(input)).searchParams.has('query')
      : 'query' in JSON.parse(init.body);
  requests.push({ method: init.method, sentQuery, status: response.status });
  return response;
}

const headers = {};
if (process.env.GRAPHQL_AUTHORIZATION) {
  headers.authorization = process.env.GRAPHQL_AUTHORIZATION;
}
if (accept) {
  headers.accept = accept;
}

const link = new PersistedQueryLink({
  sha256: (text) => createHash('sha256').update(text).digest('hex'),
  useGETForHashedQueries: method === 'get',
}).concat(new HttpLink({ uri: url, headers, fetch: recordingFetch }));
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const query = gql`
  query TypeName($name: String!) {
    __type(name: $name) {
      name
    }
  }
`;
const data = [];
for (let run = 0; run < 2; run++) {
  const result = await client.query({
    query,
    variables: { name: 'Task' },
    fetchPolicy: 'network-only',
  });
  data.push(result.data);
}
process.stdout.write(JSON.stringify({ data, requests }));
