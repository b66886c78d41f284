// The edit dialog (with optimistic concurrency: a STALE_VERSION shows the current task, and
// every other user error sits next to its input) and a task's history as a timeline from the
// audit log.
import { byId, h } from "./dom.js";
import { FieldErrors } from "./field_errors.js";
import { UserInputError } from "./graphql.js";
import { HISTORY, TASK_BY_ID, UPDATE } from "./queries.js";
import { revertButton } from "./undo.js";
import { formatIn, isoToZoned, zonedToIso } from "./zones.js";

const EVENT_NAMES = {
  "todo.task.created": "Created",
  "todo.task.updated": "Changed",
  "todo.task.completed": "Completed",
  "todo.task.reopened": "Reopened",
  "todo.task.deleted": "Deleted",
  "todo.reminder.fired": "Reminder fired",
};

export function splitList(text) {
  return text.split(",").map((item) => item.trim()).filter(Boolean);
}

function minutesBefore(task) {
  return task.reminders.filter((reminder) => reminder.minutesBefore !== null).map((reminder) => reminder.minutesBefore);
}

function describe(task) {
  const parts = [`“${task.title}”`, task.status.toLowerCase(), `priority ${task.priority.toLowerCase()}`];
  if (task.dueAt) parts.push(`due ${formatIn(task.dueAt, task.timeZone)}`);
  if (task.tags.length) parts.push(`tags ${task.tags.join(", ")}`);
  if (task.recurrence) parts.push(`repeats ${task.recurrence.text}`);
  return `${parts.join(" · ")} (version ${task.version})`;
}

// Where the edit form holds each UpdateTaskInput field the user can get wrong; the reminders
// at fixed times are sent back as they were, so a problem with either list is the one input's.
const EDIT_CONTROLS = {
  dueAt: "due",
  clearDueAt: "due",
  clearRecurrence: "recurrence",
  remindMinutesBefore: "remindBefore",
  remindAt: "remindBefore",
  id: null,
  expectedVersion: null,
};

// A time zone the browser cannot read a form's wall-clock times in, as the user error the server
// would give.
export function unreadableZone(zone, error) {
  return { field: ["input", "timeZone"], message: `cannot read times in “${zone}”: ${error.message}`, code: "INVALID" };
}

export class EditDialog {
  // `call(query, variables)` runs GraphQL, `mutate(mutation, input)` a mutation (failing with a
  // UserInputError for its userErrors); `changed(task)` gets the saved task.
  constructor(call, mutate, changed) {
    this.call = call;
    this.mutate = mutate;
    this.changed = changed;
    this.dialog = byId("edit-dialog");
    this.form = byId("edit-form");
    this.conflict = byId("conflict");
    this.errors = new FieldErrors(this.form, byId("edit-errors"), EDIT_CONTROLS);
    this.task = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    byId("edit-cancel").addEventListener("click", () => this.dialog.close());
  }

  open(task) {
    this.fill(task);
    this.dialog.showModal();
    this.form.elements.title.focus();
  }

  // The form as `task` is, with no conflict or error shown.
  fill(task) {
    this.task = task;
    this.conflict.hidden = true;
    this.errors.clear();
    const fields = this.form.elements;
    fields.title.value = task.title;
    fields.description.value = task.description;
    fields.due.value = task.dueAt ? isoToZoned(task.dueAt, task.timeZone) : "";
    fields.timeZone.value = task.timeZone;
    fields.priority.value = task.priority;
    fields.tags.value = task.tags.join(", ");
    fields.remindBefore.value = minutesBefore(task).join(", ");
    fields.recurrence.value = task.recurrence ? task.recurrence.rule : "";
  }

  input() {
    const fields = this.form.elements;
    const zone = fields.timeZone.value.trim() || this.task.timeZone;
    const input = {
      id: this.task.id,
      expectedVersion: this.task.version,
      title: fields.title.value,
      description: fields.description.value,
      priority: fields.priority.value,
      tags: splitList(fields.tags.value),
      timeZone: zone,
    };
    if (fields.due.value) {
      try {
        input.dueAt = zonedToIso(fields.due.value, zone);
      } catch (error) {
        throw new UserInputError([unreadableZone(zone, error)], null);
      }
    } else if (this.task.dueAt) input.clearDueAt = true;
    const before = splitList(fields.remindBefore.value).map(Number);
    if (before.join() !== minutesBefore(this.task).join()) {
      // Either list replaces all reminders: the absolute ones are sent back unchanged.
      input.remindMinutesBefore = before;
      input.remindAt = this.task.reminders.filter((reminder) => reminder.at !== null).map((reminder) => reminder.at);
    }
    const rule = fields.recurrence.value.trim();
    if (rule && rule !== this.task.recurrence?.rule) input.recurrence = rule;
    else if (!rule && this.task.recurrence) input.clearRecurrence = true;
    return input;
  }

  async save() {
    this.conflict.hidden = true;
    this.errors.clear();
    let input;
    try {
      input = this.input();
      const payload = await this.mutate(UPDATE, input);
      this.changed(payload.task);
      this.dialog.close();
    } catch (error) {
      if (!(error instanceof UserInputError)) {
        this.errors.show([{ field: null, message: `${error.code}: ${error.message}`, code: "INVALID" }]);
        return;
      }
      const stale = error.userErrors.some((problem) => problem.code === "STALE_VERSION");
      this.errors.show(error.userErrors.filter((problem) => problem.code !== "STALE_VERSION"), input);
      if (stale) await this.stale(error.payload?.task ?? null);
    }
  }

  // The task changed since the form was filled: the payload's `current` task (read again if the
  // payload had none) becomes the one the next save replaces, unless the user takes it instead.
  async stale(current) {
    const task = current ?? (await this.call(TASK_BY_ID, { id: this.task.id })).task;
    this.task = task;
    this.changed(task);
    this.conflict.replaceChildren(
      h(
        "p",
        {},
        "Someone else changed this task while you were editing, so nothing was saved. " +
          `It is now: ${describe(task)}. Your edits are still in the form: save again to replace it, or take theirs.`,
      ),
      h("button", { type: "button", onclick: () => this.fill(task) }, "Use their version"),
    );
    this.conflict.hidden = false;
  }
}

function change(item) {
  const from = item.before === null ? "—" : item.before;
  const to = item.after === null ? "—" : item.after;
  return h("li", {}, h("span", { class: "field" }, item.field), `: ${from} → ${to}`);
}

export class HistoryDialog {
  // `onRevert(entry)` undoes an entry's change (undo.js); the timeline then shows it again.
  constructor(call, onRevert = null) {
    this.call = call;
    this.onRevert = onRevert;
    this.dialog = byId("history-dialog");
    this.list = byId("history");
    byId("history-close").addEventListener("click", () => this.dialog.close());
  }

  async open(task) {
    byId("history-heading").textContent = `History of “${task.title}”`;
    this.list.replaceChildren(h("li", {}, "Loading…"));
    this.dialog.showModal();
    try {
      const data = await this.call(HISTORY, { taskId: task.id });
      const entries = data.auditLog.edges.map((edge) => edge.node);
      this.list.replaceChildren(
        ...(entries.length ? entries : [null]).map((entry) =>
          entry === null
            ? h("li", {}, "No history yet: it is recorded a moment after each change.")
            : h(
                "li",
                { class: "entry" },
                h("time", { datetime: entry.at }, formatIn(entry.at, task.timeZone)),
                h("span", { class: "what" }, ` ${EVENT_NAMES[entry.type] ?? entry.type} by ${entry.actor}`),
                entry.changes.length ? h("ul", { class: "changes" }, entry.changes.map(change)) : null,
                this.onRevert ? revertButton(entry, async (chosen) => { await this.onRevert(chosen); await this.open(task); }) : null,
              ),
        ),
      );
    } catch (error) {
      this.list.replaceChildren(h("li", { class: "error" }, `${error.code}: ${error.message}`));
    }
  }
}
