"""svc_tasks' rules about tasks, as pure functions over plain values.

Where a new rule goes:
- about one field's value (limits, normalizing, what is refused): `fields`;
- about a recurrence (pinning a rule, whether a task is its series' last): `recurrence`;
- about a task as a whole or a change to it (what an update may do, status transitions, which
  change kind, and so which events, follows): `lifecycle`;
- about listing tasks (filters, orders, page tokens): not here, `svc_tasks.listing`.

The servicer converts requests into these values and the results back, the store runs SQL;
neither holds a rule. Pure, as `lint-imports` checks: this package may import the standard
library, dateutil / zoneinfo / tzdata, `todo_recurrence`, `todo_transparency`, the generated
`*_pb2` message modules (for enum values; never `*_pb2_grpc`) and the runtime's pure leaf
(`errors`, `validation`, `object_ids`, `timestamps`, `enum_maps`), and nothing else of
svc_tasks: so its rules are tested without a database and run on any thread.
"""
