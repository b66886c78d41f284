"""HTTP and WebSocket: the /graphql endpoint (GraphQL over HTTP, graphql-transport-ws, who is
calling), the server's settings, request ids, and the pages served beside it (GraphiQL and the
task board). It knows nothing of the API it serves: the app hands it the schema."""
