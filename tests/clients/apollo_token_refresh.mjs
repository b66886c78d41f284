// Apollo Client's token-refresh recipe: an ErrorLink that retries once with a fresh token when
// the token was refused. Apollo Client 4 reads a 401 answered in application/graphql-response+json
// as GraphQL errors (code UNAUTHENTICATED), one answered in application/json as a ServerError
// (status 401); the recipe handles both. Prints what went over HTTP and what the error link saw.
//
// Usage: node apollo_token_refresh.mjs URL STALE_TOKEN FRESH_TOKEN [ACCEPT]
// Prints {"data": ..., "requests": [{"status", "authorization", "wwwAuthenticate"}], "seen": [...]}.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { CombinedGraphQLErrors, ServerError } from '@apollo/client/errors';
import { ErrorLink } from '@apollo/client/link/error';
import { SetContextLink } from '@apollo/client/link/context';

const [url, stale, fresh, accept] = process.argv.slice(2);
if (!url || !stale || !fresh) {
  process.stderr.write('usage: node apollo_token_refresh.mjs URL STALE_TOKEN FRESH_TOKEN\n');
  process.exit(2);
}

let token = stale;
const requests = [];
const seen = [];

async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  requests.push({
    status: response.status,
    authorization: init.headers.authorization === `Bearer ${fresh}` ? 'fresh' : 'stale',
    wwwAuthenticate: response.headers.get('www-authenticate'),
  });
  return response;
}

const auth = new SetContextLink(() => ({
  headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) },
}));
const refresh = new ErrorLink(({ error, operation, forward }) => {
  const status401 = ServerError.is(error) && error.statusCode === 401;
  const unauthenticated =
    CombinedGraphQLErrors.is(error) && error.errors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
  seen.push(status401 ? 'status 401' : unauthenticated ? 'UNAUTHENTICATED' : String(error));
  if ((status401 || unauthenticated) && token !== fresh) {
    token = fresh; // where a real client would ask its identity provider for a new token
    operation.setContext({ headers: { authorization: `Bearer ${token}` } });
    return forward(operation);
  }
  return undefined;
});
const link = ApolloLink.from([refresh, auth, new HttpLink({ uri: url, fetch: recordingFetch })]);
const client = new ApolloClient({ link, cache: new InMemoryCache() });

const result = await client.query({
  query: gql`
    query Count {
      tasks(first: 1) {
        totalCount
      }
    }
  `,
  fetchPolicy: 'network-only',
});
process.stdout.write(JSON.stringify({ data: result.data, error: result.error?.message ?? null, requests, seen }));
