// Queries and mutations over HTTP (POST /graphql), failing with every error's message and code.
// A mutation's refusal of its input is no GraphQL error but `userErrors` in its payload:
// `mutate` fails with those as a UserInputError, which a form shows next to its inputs.

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

// The input was refused: `userErrors` ({field, message, code}, `field` the path into the input
// such as ["input", "tags", "2"], or null) and the payload they came in (a STALE_VERSION's has
// the current task).
export class UserInputError extends Error {
  constructor(userErrors, payload) {
    super(userErrors.map((error) => error.message).join("; "));
    this.userErrors = userErrors;
    this.payload = payload;
    this.code = userErrors[0]?.code ?? "INVALID";
  }
}

// Runs a mutation of one root field with `input` and returns its payload. The payload is null
// only beside a top-level error, which `request` has thrown already.
export async function mutate(token, mutation, input) {
  const data = await request(token, mutation, { input });
  const [payload] = Object.values(data);
  if (!payload) throw new GraphQLError([{ message: "the mutation answered nothing", extensions: { code: "INTERNAL" } }]);
  if (payload.userErrors.length) throw new UserInputError(payload.userErrors, payload);
  return payload;
}
