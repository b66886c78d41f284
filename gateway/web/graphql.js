// Queries and mutations over HTTP (POST /graphql), failing with every error's message and code.

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((error) => error.message).join("; "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code ?? "INTERNAL";
  }
}

export async function request(token, query, variables = {}) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        // Plain JSON: GraphQL errors come with status 200 (a refused token with 401) and a body.
        accept: "application/json",
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new GraphQLError([{ message: `network error: ${error.message}`, extensions: { code: "NETWORK" } }]);
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new GraphQLError([
      { message: `the gateway answered ${response.status} without a GraphQL body`, extensions: { code: "INTERNAL" } },
    ]);
  }
  if (body.errors?.length) {
    throw new GraphQLError(body.errors);
  }
  return body.data;
}
