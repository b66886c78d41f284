// Starts GraphiQL on the playground page. A file of its own, not an inline script, so the page's
// Content-Security-Policy needs no 'unsafe-inline'. React, ReactDOM and GraphiQL are the globals
// their UMD bundles define (loaded before this file).
"use strict";

(function () {
  const DEFAULT_QUERY = `# The todo GraphQL API. Sign in first: in "Headers" below,
# paste a token from \`todo token USER\` (you are then USER).
#
# Two operations below: the run button asks which to run.
#
# Lists are Relay cursor connections: take the first N
# edges, then pass pageInfo.endCursor (or any edge's
# cursor) as after: to get the N that follow it.
query Tasks {
  # next page: tasks(first: 10, after: "<endCursor>")
  tasks(first: 10) {
    totalCount
    edges {
      cursor
      node { id title status priority dueAt }
    }
    pageInfo { hasNextPage endCursor }
  }
}

# Every mutation takes one input and answers a payload.
# userErrors: what was wrong with the input, every wrong
# field at once, each with its path (["input", "title"]);
# empty when it worked, and then task is the new task.
mutation AddTask {
  createTask(input: { title: "Try the playground", tags: ["demo"] }) {
    task { id title }
    userErrors { field message code }
  }
}
`;

  const DEFAULT_HEADERS = `{
  "Authorization": "Bearer <paste a token from: todo token USER>"
}
`;

  // The page is served at the GraphQL endpoint itself; subscriptions use the same URL over
  // WebSocket (graphql-transport-ws). GraphiQL sends the Headers tab's JSON as the connection_init
  // payload, which is where the gateway reads a WebSocket's token.
  const url = window.location.origin + window.location.pathname;
  const subscriptionUrl = url.replace(/^http/, "ws");
  const fetchGraphQL = GraphiQL.createFetcher({ url, subscriptionUrl });

  // Until a token is pasted, the header holds the template's placeholder: it is left out, so the
  // schema loads (introspection needs no token) instead of a 401 for a token that is not one.
  const PLACEHOLDER = "<paste a token";
  function fetcher(params, options) {
    const headers = { ...(options && options.headers) };
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === "authorization" && String(headers[name]).includes(PLACEHOLDER)) {
        delete headers[name];
      }
    }
    return fetchGraphQL(params, { ...options, headers });
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: DEFAULT_QUERY,
      defaultHeaders: DEFAULT_HEADERS,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      // Tabs, history and headers live as long as the browser tab: a pasted token survives a
      // reload but never reaches localStorage, where it would outlive the session (GraphiQL's
      // history keeps every request's headers, whatever shouldPersistHeaders says).
      storage: window.sessionStorage,
      shouldPersistHeaders: true,
    }),
  );
})();
