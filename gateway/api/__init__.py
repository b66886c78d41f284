"""The GraphQL API by domain: each module or package holds its domain's types and the queries,
mutations and subscriptions that return them; `roots` assembles Query, Mutation and
Subscription from them."""
