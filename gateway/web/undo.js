// Undo: after every change the board offers "Undo" for a few seconds (a toast), and the history
// timeline offers it on every entry ("Restore" on a delete). Both undo through `revertChange`,
// which names the change by its audit entry: the entry is written a moment after the change
// (svc_audit reads it from the event stream), so the toast looks for it with a few retries.
import { h } from "./dom.js";
import { LATEST_ENTRIES, REVERT } from "./queries.js";

const SHOWN_MS = 8000;
const TRIES = 20;
const RETRY_MS = 250;
const sleep = (ms) => new Promise((resolve) => window.setTimeout(resolve, ms));
const sameInstant = (a, b) => a === b || (a && b && Date.parse(a) === Date.parse(b));

export class Undo {
  // `call` runs a query, `mutation` a mutation (userErrors throw); `place(id, task)` puts a task
  // on the board (null: gone); `fail(error)` shows an error.
  constructor(call, mutation, place, fail) {
    Object.assign(this, { call, mutation, place, fail });
    this.toast = h("div", { id: "undo-toast", class: "toast", role: "status", hidden: true });
    document.body.append(this.toast);
    this.timer = null;
  }

  // Offers to undo the change just made to `taskId`: `task` is the task it left (its
  // updatedAt is the change's time), or null after a delete.
  offer(label, taskId, task) {
    window.clearTimeout(this.timer);
    const button = h("button", { type: "button", id: "undo-button" }, "Undo");
    button.addEventListener("click", async () => {
      button.disabled = true;
      this.hide();
      try {
        const entry = await this.entryOf(taskId, task);
        await this.revert(entry.id);
      } catch (error) {
        this.fail(error);
      }
    });
    this.toast.replaceChildren(h("span", {}, label), button);
    this.toast.hidden = false;
    this.timer = window.setTimeout(() => this.hide(), SHOWN_MS);
  }

  hide() {
    window.clearTimeout(this.timer);
    this.toast.hidden = true;
  }

  // The audit entry of the change that left `task` (or, for a delete, the task's newest delete).
  async entryOf(taskId, task) {
    for (let attempt = 0; attempt < TRIES; attempt += 1) {
      const data = await this.call(LATEST_ENTRIES, { taskId });
      const found = data.auditLog.edges
        .map((edge) => edge.node)
        .find((entry) => (task === null ? entry.type === "todo.task.deleted" : sameInstant(entry.at, task.updatedAt)));
      if (found) return found;
      await sleep(RETRY_MS);
    }
    throw { code: "NOT_FOUND", message: "the change is not in the history yet; try Undo from the task's history" };
  }

  // Undoes the change `entryId` records and shows the board as it left it.
  async revert(entryId) {
    const payload = await this.mutation(REVERT, { auditEntryId: entryId });
    if (payload.task) this.place(payload.task.id, payload.task);
    if (payload.deletedTaskId) this.place(payload.deletedTaskId, null);
    if (payload.removedNextInstanceId) this.place(payload.removedNextInstanceId, null);
    const notes = [payload.reverted ? "Undone." : "Already undone."];
    if (payload.keptNextInstance) {
      this.place(payload.keptNextInstance.id, payload.keptNextInstance);
      notes.push(`The next instance “${payload.keptNextInstance.title}” was changed since, so it was kept.`);
    }
    this.toast.replaceChildren(h("span", {}, notes.join(" ")));
    this.toast.hidden = false;
    this.timer = window.setTimeout(() => this.hide(), SHOWN_MS);
    return payload;
  }
}

// The button the history timeline shows on an entry of yours about a task change.
export function revertButton(entry, onRevert) {
  if (!entry.type.startsWith("todo.task.") || entry.actor.startsWith("system:")) return null;
  const label = entry.type === "todo.task.deleted" ? "Restore" : "Undo";
  return h("button", { type: "button", class: "revert", onclick: () => onRevert(entry) }, label);
}
