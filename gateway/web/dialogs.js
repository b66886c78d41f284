// The edit dialog (with optimistic concurrency: a CONFLICT shows the current task) and a
// task's history as a timeline from the audit log.
import { byId, h } from "./dom.js";
import { HISTORY, TASK_BY_ID, UPDATE } from "./queries.js";
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

export class EditDialog {
  // `call(query, variables)` runs GraphQL; `changed(task)` gets the saved task.
  constructor(call, changed) {
    this.call = call;
    this.changed = changed;
    this.dialog = byId("edit-dialog");
    this.form = byId("edit-form");
    this.conflict = byId("conflict");
    this.task = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    byId("edit-cancel").addEventListener("click", () => this.dialog.close());
  }

  open(task) {
    this.task = task;
    this.conflict.hidden = true;
    const fields = this.form.elements;
    fields.title.value = task.title;
    fields.description.value = task.description;
    fields.due.value = task.dueAt ? isoToZoned(task.dueAt, task.timeZone) : "";
    fields.timeZone.value = task.timeZone;
    fields.priority.value = task.priority;
    fields.tags.value = task.tags.join(", ");
    fields.remindBefore.value = minutesBefore(task).join(", ");
    fields.recurrence.value = task.recurrence ? task.recurrence.rule : "";
    this.dialog.showModal();
    fields.title.focus();
  }

  input() {
    const fields = this.form.elements;
    const zone = fields.timeZone.value.trim() || this.task.timeZone;
    const input = {
      title: fields.title.value,
      description: fields.description.value,
      priority: fields.priority.value,
      tags: splitList(fields.tags.value),
      timeZone: zone,
    };
    if (fields.due.value) input.dueAt = zonedToIso(fields.due.value, zone);
    else if (this.task.dueAt) input.clearDueAt = true;
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
    let input;
    try {
      input = this.input();
    } catch (error) {
      this.showConflict(`Cannot read the due time: ${error.message}`);
      return;
    }
    try {
      const data = await this.call(UPDATE, { id: this.task.id, input, version: this.task.version });
      this.changed(data.updateTask);
      this.dialog.close();
    } catch (error) {
      if (error.code !== "CONFLICT") {
        this.showConflict(`${error.code}: ${error.message}`);
        return;
      }
      const current = (await this.call(TASK_BY_ID, { id: this.task.id })).task;
      this.task = current;
      this.changed(current);
      this.showConflict(
        "Someone else changed this task while you were editing, so nothing was saved. " +
          `It is now: ${describe(current)}. Your edits are still in the form: save again to replace it.`,
      );
    }
  }

  showConflict(text) {
    this.conflict.textContent = text;
    this.conflict.hidden = false;
  }
}

function change(item) {
  const from = item.before === null ? "—" : item.before;
  const to = item.after === null ? "—" : item.after;
  return h("li", {}, h("span", { class: "field" }, item.field), `: ${from} → ${to}`);
}

export class HistoryDialog {
  constructor(call) {
    this.call = call;
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
              ),
        ),
      );
    } catch (error) {
      this.list.replaceChildren(h("li", { class: "error" }, `${error.code}: ${error.message}`));
    }
  }
}
