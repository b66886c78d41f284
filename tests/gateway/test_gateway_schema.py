"""The schema keeps the contract of docs/architecture.md#graphql-contract to the letter, and the
committed SDL is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    InputValueDefinitionNode,
    build_schema,
    print_ast,
)

from gateway import export_schema
from gateway.schema import build_schema as build_gateway_schema

# The contract as served now (audit, notifications, subscriptions and the change cursor come
# with their services). Mutations follow the Relay mutation convention (docs/guide.md#mutations):
# their payloads are the contract since that one planned break, recorded in
# gateway/schema_breaks.txt.
CONTRACT = """
scalar DateTime
enum Priority { NONE LOW MEDIUM HIGH URGENT }
enum TaskStatus { OPEN COMPLETED }
enum RecurrenceBasis { SCHEDULE COMPLETION }
type Recurrence { rule: String! text: String! basis: RecurrenceBasis! }
type Reminder { id: ID! minutesBefore: Int at: DateTime }
interface Node { id: ID! }
type Task implements Node {
  id: ID! title: String! description: String! status: TaskStatus! priority: Priority!
  tags: [String!]! dueAt: DateTime timeZone: String! recurrence: Recurrence
  reminders: [Reminder!]! seriesId: ID version: Int!
  createdAt: DateTime! updatedAt: DateTime! completedAt: DateTime
}
input CreateTaskInput {
  clientMutationId: String title: String! description: String priority: Priority tags: [String!]
  dueAt: DateTime timeZone: String
  recurrence: String
  remindMinutesBefore: [Int!] remindAt: [DateTime!]
}
input UpdateTaskInput {
  clientMutationId: String id: ID! expectedVersion: Int
  title: String description: String priority: Priority tags: [String!]
  dueAt: DateTime clearDueAt: Boolean timeZone: String
  recurrence: String clearRecurrence: Boolean
  remindMinutesBefore: [Int!] remindAt: [DateTime!]
}
input TaskFilter {
  status: TaskStatus priorities: [Priority!] tags: [String!]
  dueBefore: DateTime dueAfter: DateTime overdue: Boolean search: String
}
enum TaskOrderField { DUE_AT PRIORITY TITLE CREATED_AT UPDATED_AT }
enum OrderDirection { ASC DESC }
input TaskOrder { field: TaskOrderField! direction: OrderDirection }
type TaskEdge { cursor: String! node: Task! }
type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
type TaskConnection { edges: [TaskEdge!]! pageInfo: PageInfo! totalCount: Int! }
enum ChangeKind { CREATED UPDATED COMPLETED REOPENED DELETED }
type RecurrencePreview {
  rule: String! text: String! basis: RecurrenceBasis! occurrences: [DateTime!]!
}
type Notification implements Node {
  id: ID! taskId: ID! title: String! dueAt: DateTime firedAt: DateTime! readAt: DateTime
}
type NotificationEdge { cursor: String! node: Notification! }
type NotificationConnection { edges: [NotificationEdge!]! pageInfo: PageInfo! totalCount: Int! }
type Webhook implements Node { id: ID! url: String! enabled: Boolean! createdAt: DateTime! }
type WebhookDelivery {
  id: ID! eventId: ID! attempt: Int! status: Int error: String at: DateTime! latencyMs: Int
}
type WebhookDeliveryEdge { cursor: String! node: WebhookDelivery! }
type WebhookDeliveryConnection {
  edges: [WebhookDeliveryEdge!]! pageInfo: PageInfo! totalCount: Int!
}
enum CalendarFeedKind { VTODO VEVENT }
type CalendarFeed implements Node { id: ID! kind: CalendarFeedKind! name: String! createdAt: DateTime! }
type Query {
  tasks(
    filter: TaskFilter, orderBy: [TaskOrder!], first: Int, after: String, last: Int, before: String
  ): TaskConnection!
  node(id: ID!): Node
  nodes(ids: [ID!]!): [Node]
  task(id: ID!): Task
  notifications(unreadOnly: Boolean = false, first: Int = 50, after: String): NotificationConnection!
  parseRecurrence(text: String!, timeZone: String, count: Int = 5): RecurrencePreview!
  parseQuickAdd(text: String!, timeZone: String!): QuickAddPreview!
  webhooks: [Webhook!]!
  webhookDeliveries(webhookId: ID!, first: Int = 50, after: String): WebhookDeliveryConnection!
  calendarFeeds: [CalendarFeed!]!
}
enum UserErrorCode {
  INVALID NOT_FOUND STALE_VERSION TASK_DELETED TASK_DONE TOO_MANY_WEBHOOKS DELIVERY_IN_FLIGHT
  CONFLICT CHANGED_SINCE TASK_EXISTS NOT_REVERTIBLE TOO_MANY_CALENDAR_FEEDS
}
type UserError { field: [String!] message: String! code: UserErrorCode! }
input CompleteTaskInput { clientMutationId: String id: ID! }
input ReopenTaskInput { clientMutationId: String id: ID! }
input DeleteTaskInput { clientMutationId: String id: ID! }
input MarkNotificationReadInput { clientMutationId: String id: ID! }
input SnoozeReminderInput { clientMutationId: String notificationId: ID! minutes: Int! }
input CreateWebhookInput { clientMutationId: String url: String! }
input SetWebhookEnabledInput { clientMutationId: String id: ID! enabled: Boolean! }
input DeleteWebhookInput { clientMutationId: String id: ID! }
input RedeliverWebhookInput { clientMutationId: String deliveryId: ID! }
input CreateCalendarFeedInput { clientMutationId: String kind: CalendarFeedKind! name: String }
input RevokeCalendarFeedInput { clientMutationId: String id: ID! }
type CreateCalendarFeedPayload {
  clientMutationId: String userErrors: [UserError!]! calendarFeed: CalendarFeed url: String
}
type RevokeCalendarFeedPayload {
  clientMutationId: String userErrors: [UserError!]! revokedCalendarFeedId: ID
}
input RevertChangeInput { clientMutationId: String auditEntryId: ID! }
type RevertChangePayload {
  clientMutationId: String userErrors: [UserError!]! task: Task reverted: Boolean!
  deletedTaskId: ID removedNextInstanceId: ID keptNextInstance: Task
}
type CreateTaskPayload { clientMutationId: String userErrors: [UserError!]! task: Task }
type UpdateTaskPayload { clientMutationId: String userErrors: [UserError!]! task: Task }
type CompleteTaskPayload { clientMutationId: String userErrors: [UserError!]! task: Task }
type ReopenTaskPayload { clientMutationId: String userErrors: [UserError!]! task: Task }
type DeleteTaskPayload { clientMutationId: String userErrors: [UserError!]! deletedTaskId: ID }
type MarkNotificationReadPayload {
  clientMutationId: String userErrors: [UserError!]! notification: Notification
}
type SnoozeReminderPayload {
  clientMutationId: String userErrors: [UserError!]! notification: Notification
}
type CreateWebhookPayload {
  clientMutationId: String userErrors: [UserError!]! webhook: Webhook secret: String
}
type SetWebhookEnabledPayload { clientMutationId: String userErrors: [UserError!]! webhook: Webhook }
type DeleteWebhookPayload { clientMutationId: String userErrors: [UserError!]! deletedWebhookId: ID }
enum QuickAddField { TITLE DUE RECURRENCE TAG PRIORITY REMINDER }
type QuickAddSpan { start: Int! end: Int! text: String! field: QuickAddField! }
type QuickAddPreview {
  title: String! dueAt: DateTime timeZone: String! recurrence: Recurrence tags: [String!]!
  priority: Priority! remindMinutesBefore: [Int!]! remindAt: [DateTime!]! spans: [QuickAddSpan!]!
}
input QuickAddTaskInput { clientMutationId: String text: String! timeZone: String! requestId: String }
type QuickAddTaskPayload {
  clientMutationId: String userErrors: [UserError!]! task: Task parsed: QuickAddPreview
}
type RedeliverWebhookPayload { clientMutationId: String userErrors: [UserError!]! deliveryId: ID }
type Mutation {
  createTask(input: CreateTaskInput!): CreateTaskPayload
  updateTask(input: UpdateTaskInput!): UpdateTaskPayload
  completeTask(input: CompleteTaskInput!): CompleteTaskPayload
  reopenTask(input: ReopenTaskInput!): ReopenTaskPayload
  deleteTask(input: DeleteTaskInput!): DeleteTaskPayload
  snoozeReminder(input: SnoozeReminderInput!): SnoozeReminderPayload
  markNotificationRead(input: MarkNotificationReadInput!): MarkNotificationReadPayload
  createWebhook(input: CreateWebhookInput!): CreateWebhookPayload
  setWebhookEnabled(input: SetWebhookEnabledInput!): SetWebhookEnabledPayload
  deleteWebhook(input: DeleteWebhookInput!): DeleteWebhookPayload
  redeliverWebhook(input: RedeliverWebhookInput!): RedeliverWebhookPayload
  createCalendarFeed(input: CreateCalendarFeedInput!): CreateCalendarFeedPayload
  revokeCalendarFeed(input: RevokeCalendarFeedInput!): RevokeCalendarFeedPayload
  revertChange(input: RevertChangeInput!): RevertChangePayload
  quickAddTask(input: QuickAddTaskInput!): QuickAddTaskPayload
}
"""

_BUILT_IN = {"String", "Int", "Boolean", "ID", "Float"}
_contract = build_schema(CONTRACT)
# Built back from the printed SDL: what clients see, and comparable node for node with the contract.
_ours = build_schema(build_gateway_schema().as_str())


def _signature(node: InputValueDefinitionNode) -> tuple[str, str | None]:
    """An argument's type and default as written in SDL, without its description."""
    default = node.default_value
    return print_ast(node.type), print_ast(default) if default is not None else None


def _user_types() -> list[GraphQLNamedType]:
    return [
        t
        for name, t in _contract.type_map.items()
        if not name.startswith("__") and name not in {"String", "Int", "Boolean", "ID", "Float"}
    ]


@pytest.mark.parametrize("contract_type", _user_types(), ids=lambda t: t.name)
def test_contract_type_is_served_unchanged(contract_type: GraphQLNamedType) -> None:
    ours = _ours.get_type(contract_type.name)
    assert ours is not None, f"{contract_type.name} is missing"
    assert type(ours) is type(contract_type)
    if isinstance(contract_type, GraphQLEnumType):
        assert isinstance(ours, GraphQLEnumType)
        assert list(ours.values) == list(contract_type.values)
    elif isinstance(contract_type, GraphQLScalarType):
        assert isinstance(ours, GraphQLScalarType)
    elif isinstance(contract_type, GraphQLObjectType | GraphQLInterfaceType):
        assert isinstance(ours, GraphQLObjectType | GraphQLInterfaceType)
        assert [i.name for i in ours.interfaces] == [i.name for i in contract_type.interfaces]
        for name, field in contract_type.fields.items():
            assert name in ours.fields, f"{contract_type.name}.{name} is missing"
            assert str(ours.fields[name].type) == str(field.type), f"{contract_type.name}.{name}"
            ours_args = ours.fields[name].args
            assert list(ours_args)[: len(field.args)] == list(field.args), (
                f"{contract_type.name}.{name} arguments"
            )
            added = [a for n, a in ours_args.items() if n not in field.args]
            assert all(not str(a.type).endswith("!") for a in added), "added arguments are optional"
            for arg_name, arg in field.args.items():
                ours_arg = ours_args[arg_name].ast_node
                assert ours_arg is not None
                assert arg.ast_node is not None
                assert _signature(ours_arg) == _signature(arg.ast_node), f"{name}({arg_name})"
    else:
        assert isinstance(contract_type, GraphQLInputObjectType)
        assert isinstance(ours, GraphQLInputObjectType)
        for name, field in contract_type.fields.items():
            assert name in ours.fields, f"{contract_type.name}.{name} is missing"
            assert str(ours.fields[name].type) == str(field.type), f"{contract_type.name}.{name}"
        added_required = [
            name
            for name, field in ours.fields.items()
            if name not in contract_type.fields and str(field.type).endswith("!")
        ]
        assert added_required == [], "added input fields must be optional"


def test_every_type_field_and_argument_has_a_description() -> None:
    """Frontend teams read the schema in GraphiQL: nothing may be left unexplained."""
    schema = build_gateway_schema()._schema
    missing = []
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in _BUILT_IN:
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, (GraphQLObjectType, GraphQLInputObjectType)):
            fields = named.fields.items()
            missing += [f"{name}.{field}" for field, value in fields if not value.description]
        if isinstance(named, GraphQLObjectType):
            for field, value in named.fields.items():
                missing += [
                    f"{name}.{field}({arg})" for arg, a in value.args.items() if not a.description
                ]
    assert missing == []


def test_committed_schema_is_current() -> None:
    assert export_schema.SCHEMA_PATH.read_text(encoding="utf-8") == export_schema.render()
    assert export_schema.main(["--check"]) == 0


def test_check_fails_on_a_stale_or_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "schema.graphql"
    assert export_schema.main(["--check"], path=stale) == 1
    stale.write_text("type Query { old: String }\n", encoding="utf-8")
    assert export_schema.main(["--check"], path=stale) == 1
    assert "stale" in capsys.readouterr().err
    assert export_schema.main([], path=stale) == 0
    assert export_schema.main(["--check"], path=stale) == 0
    assert stale.read_text(encoding="utf-8") == export_schema.render()
