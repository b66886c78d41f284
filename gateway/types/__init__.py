"""GraphQL types, one module per domain, each converting from the Protobuf messages."""
