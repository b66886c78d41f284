// The GraphQL documents the board sends: the public API only.
const TASK = `id title description status priority tags dueAt timeZone version
  recurrence { rule text basis } reminders { id minutesBefore at }
  seriesId seriesIndex createdAt updatedAt completedAt`;

export const LIST = `query Board($filter: TaskFilter, $orderBy: [TaskOrder!], $first: Int, $after: String, $withCursor: Boolean!) {
  tasks(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    edges { cursor node { ${TASK} } }
    pageInfo { hasNextPage endCursor }
    totalCount
    changeCursor @include(if: $withCursor)
  }
}`;
export const TASK_BY_ID = `query Task($id: ID!) { task(id: $id) { ${TASK} } }`;
export const PREVIEW = `query Preview($text: String!, $timeZone: String, $dueAt: DateTime) {
  parseRecurrence(text: $text, timeZone: $timeZone, count: 5, dueAt: $dueAt) { rule text basis occurrences }
}`;
export const CREATE = `mutation Create($input: CreateTaskInput!) { createTask(input: $input) { ${TASK} } }`;
export const UPDATE = `mutation Update($id: ID!, $input: UpdateTaskInput!, $version: Int) {
  updateTask(id: $id, input: $input, expectedVersion: $version) { ${TASK} }
}`;
export const COMPLETE = `mutation Complete($id: ID!) { completeTask(id: $id) { ${TASK} } }`;
export const REOPEN = `mutation Reopen($id: ID!) { reopenTask(id: $id) { ${TASK} } }`;
export const DELETE = `mutation Delete($id: ID!) { deleteTask(id: $id) }`;
export const HISTORY = `query History($taskId: ID!) {
  auditLog(taskId: $taskId, first: 200) { edges { node { id type actor at changes { field before after } } } }
}`;
const NOTIFICATION = "id taskId title dueAt firedAt readAt snoozedUntil";
export const NOTIFICATIONS = `query Notifications { notifications(first: 50) { edges { node { ${NOTIFICATION} } } } }`;
export const MARK_READ = `mutation MarkRead($id: ID!) { markNotificationRead(id: $id) { ${NOTIFICATION} } }`;
export const SNOOZE = `mutation Snooze($id: ID!, $minutes: Int!) {
  snoozeReminder(notificationId: $id, minutes: $minutes) { ${NOTIFICATION} }
}`;
export const TASK_UPDATES = `subscription Updates($since: String) {
  taskUpdates(since: $since) { cursor kind task { ${TASK} } }
}`;
export const REMINDERS = `subscription Reminders {
  reminders { notificationId dueAt firedAt task { id title timeZone } }
}`;
