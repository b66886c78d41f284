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
const QUICK_ADD_PREVIEW = `title dueAt tags priority recurrence { rule text basis }
  remindMinutesBefore remindAt spans { start end text field }`;
export const PARSE_QUICK_ADD = `query QuickAddPreview($text: String!, $timeZone: String!) {
  parseQuickAdd(text: $text, timeZone: $timeZone) { ${QUICK_ADD_PREVIEW} }
}`;
// Mutations follow the Relay convention: one `input`, a payload with the changed object, the
// `userErrors` that refused the input (each with its path into the input) and clientMutationId.
const USER_ERRORS = "userErrors { field message code }";
export const CREATE = `mutation Create($input: CreateTaskInput!) {
  createTask(input: $input) { task { ${TASK} } ${USER_ERRORS} }
}`;
// With expectedVersion in the input: a STALE_VERSION user error comes with the current task.
export const UPDATE = `mutation Update($input: UpdateTaskInput!) {
  updateTask(input: $input) { task { ${TASK} } ${USER_ERRORS} }
}`;
export const COMPLETE = `mutation Complete($input: CompleteTaskInput!) {
  completeTask(input: $input) { task { ${TASK} } ${USER_ERRORS} }
}`;
export const REOPEN = `mutation Reopen($input: ReopenTaskInput!) {
  reopenTask(input: $input) { task { ${TASK} } ${USER_ERRORS} }
}`;
export const DELETE = `mutation Delete($input: DeleteTaskInput!) { deleteTask(input: $input) { deletedTaskId ${USER_ERRORS} } }`;
export const HISTORY = `query History($taskId: ID!) {
  auditLog(taskId: $taskId, first: 200) { edges { node { id type actor at changes { field before after } } } }
}`;
// Undo (undo.js): a task's newest entries, to find the one a change just made, and the undo.
export const LATEST_ENTRIES = `query LatestEntries($taskId: ID!) {
  auditLog(taskId: $taskId, first: 5, newestFirst: true) { edges { node { id type actor at } } }
}`;
export const REVERT = `mutation Revert($input: RevertChangeInput!) {
  revertChange(input: $input) {
    task { ${TASK} } reverted deletedTaskId removedNextInstanceId keptNextInstance { ${TASK} } ${USER_ERRORS}
  }
}`;
const NOTIFICATION = "id taskId title dueAt firedAt readAt snoozedUntil";
export const NOTIFICATIONS = `query Notifications { notifications(first: 50) { edges { node { ${NOTIFICATION} } } } }`;
export const MARK_READ = `mutation MarkRead($input: MarkNotificationReadInput!) {
  markNotificationRead(input: $input) { notification { ${NOTIFICATION} } ${USER_ERRORS} }
}`;
export const SNOOZE = `mutation Snooze($input: SnoozeReminderInput!) {
  snoozeReminder(input: $input) { notification { ${NOTIFICATION} } ${USER_ERRORS} }
}`;
export const TASK_UPDATES = `subscription Updates($since: String) {
  taskUpdates(since: $since) { cursor kind task { ${TASK} } }
}`;
export const REMINDERS = `subscription Reminders {
  reminders { notificationId dueAt firedAt task { id title timeZone } }
}`;
export const QUICK_ADD = `mutation QuickAdd($input: QuickAddTaskInput!) {
  quickAddTask(input: $input) { task { ${TASK} } parsed { ${QUICK_ADD_PREVIEW} } ${USER_ERRORS} }
}`;
