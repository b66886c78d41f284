// Audits a GraphQL-over-HTTP server with graphql-http's reference suite; prints the results as JSON.
//
// Usage: node audit_server.mjs URL
// GRAPHQL_AUTHORIZATION, when set, is sent as the Authorization header of every request,
// as a signed-in client would send it.
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
if (!url) {
  process.stderr.write('usage: node audit_server.mjs URL\n');
  process.exit(2);
}
const authorization = process.env.GRAPHQL_AUTHORIZATION;

function fetchWithAuthorization(input, init = {}) {
  const headers = new Headers(init.headers);
  if (authorization) {
    headers.set('authorization', authorization);
  }
  return fetch(input, { ...init, headers });
}

async function describe(result) {
  const { id, name, status } = result;
  if (status === 'ok') {
    return { id, name, status };
  }
  const response = result.response;
  let body;
  try {
    body = await response.text();
  } catch (error) {
    body = `(body not readable: ${error})`;
  }
  return {
    id,
    name,
    status,
    reason: result.reason,
    response: {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body,
    },
  };
}

const results = await auditServer({ url, fetchFn: fetchWithAuthorization });
process.stdout.write(JSON.stringify(await Promise.all(results.map(describe))));
