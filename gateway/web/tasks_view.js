// The task list's rules on the client: which live updates belong in the list, where, and how a
// task reads. The server decides what the first pages hold; these rules place updates among them.
import { h } from "./dom.js";
import { formatIn } from "./zones.js";

const PRIORITY_RANK = { NONE: 0, LOW: 1, MEDIUM: 2, HIGH: 3, URGENT: 4 };

// Whether a task passes the filter as the server would decide. Search is approximated by word
// prefixes (the server also forgives typos), so a changed task matched on the server stays.
export function matches(filter, task, known) {
  const due = task.dueAt === null ? null : Date.parse(task.dueAt);
  if (filter.status && task.status !== filter.status) return false;
  if (filter.priorities && !filter.priorities.includes(task.priority)) return false;
  if (filter.tags && !filter.tags.every((tag) => task.tags.includes(tag.toLowerCase()))) return false;
  if (filter.dueBefore && (due === null || due >= Date.parse(filter.dueBefore))) return false;
  if (filter.dueAfter && (due === null || due < Date.parse(filter.dueAfter))) return false;
  if (filter.overdue !== undefined) {
    const overdue = task.status === "OPEN" && due !== null && due < Date.now();
    if (overdue !== filter.overdue) return false;
  }
  if (filter.search && !known) {
    const words = `${task.title} ${task.description}`.toLowerCase().split(/\W+/);
    const wanted = filter.search.toLowerCase().split(/\W+/).filter(Boolean);
    if (!wanted.every((term) => words.some((word) => word.startsWith(term)))) return false;
  }
  return true;
}

function key(task, field) {
  switch (field) {
    case "DUE_AT": return task.dueAt === null ? null : Date.parse(task.dueAt);
    case "PRIORITY": return PRIORITY_RANK[task.priority];
    case "TITLE": return task.title.toLowerCase();
    case "CREATED_AT": return Date.parse(task.createdAt);
    default: return Date.parse(task.updatedAt);
  }
}

// A comparator in the server's order for one TaskOrder (ties broken by id; no due time last).
export function comparator(order) {
  const sign = order.direction === "DESC" ? -1 : 1;
  return (a, b) => {
    const x = key(a, order.field);
    const y = key(b, order.field);
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * sign;
    }
    return a.id < b.id ? -sign : a.id > b.id ? sign : 0;
  };
}

function describeReminders(task) {
  return task.reminders.map((reminder) =>
    reminder.minutesBefore === null ? `at ${formatIn(reminder.at, task.timeZone)}` : `${reminder.minutesBefore} min before`,
  );
}

// One task as a list item with its actions; `act(name, task)` runs them.
export function renderTask(task, act) {
  const done = task.status === "COMPLETED";
  const title = h("span", { class: "title" }, task.title);
  const meta = h(
    "p",
    { class: "meta" },
    h("span", { class: `status status-${task.status.toLowerCase()}` }, done ? "done" : "open"),
    task.priority !== "NONE" ? h("span", { class: `priority priority-${task.priority.toLowerCase()}` }, task.priority.toLowerCase()) : null,
    task.dueAt ? h("span", { class: "due" }, `due ${formatIn(task.dueAt, task.timeZone)} (${task.timeZone})`) : null,
    task.recurrence ? h("span", { class: "repeats" }, `repeats ${task.recurrence.text}`) : null,
    task.reminders.length ? h("span", {}, `reminders: ${describeReminders(task).join(", ")}`) : null,
    ...task.tags.map((tag) => h("span", { class: "tag" }, `#${tag}`)),
  );
  const label = (verb) => `${verb} ${task.title}`;
  return h(
    "li",
    { class: done ? "task done" : "task", "data-id": task.id, "data-version": task.version },
    h("div", { class: "body" }, title, task.description ? h("p", { class: "description" }, task.description) : null, meta),
    h(
      "div",
      { class: "actions" },
      done
        ? h("button", { type: "button", "aria-label": label("Reopen"), onclick: () => act("reopen", task) }, "Reopen")
        : h("button", { type: "button", "aria-label": label("Complete"), onclick: () => act("complete", task) }, "Complete"),
      h("button", { type: "button", "aria-label": label("Edit"), onclick: () => act("edit", task) }, "Edit"),
      h("button", { type: "button", "aria-label": label("History of"), onclick: () => act("history", task) }, "History"),
      h("button", { type: "button", class: "danger", "aria-label": label("Delete"), onclick: () => act("delete", task) }, "Delete"),
    ),
  );
}
