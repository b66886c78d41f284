// Reminders: in-page notices as they fire (the `reminders` subscription) and the notifications
// list with mark-read and snooze.
import { byId, h } from "./dom.js";
import { MARK_READ, NOTIFICATIONS, SNOOZE } from "./queries.js";
import { formatIn } from "./zones.js";

const SNOOZE_MINUTES = [5, 10, 60];

export class Notifications {
  // `call(query, variables)` runs GraphQL, `mutate(mutation, input)` a mutation; `fail(error)`
  // shows an error (a user error too: TASK_DONE when snoozing a finished task's reminder).
  constructor(call, mutate, fail) {
    this.call = call;
    this.mutate = mutate;
    this.fail = fail;
    this.list = byId("notifications");
    this.notices = byId("notices");
  }

  async refresh() {
    try {
      const data = await this.call(NOTIFICATIONS);
      this.render(data.notifications.edges.map((edge) => edge.node));
    } catch (error) {
      this.fail(error);
    }
  }

  render(items) {
    const unread = items.filter((item) => item.readAt === null).length;
    byId("unread").textContent = `(${unread} unread)`;
    this.list.replaceChildren(
      ...(items.length ? items.map((item) => this.item(item)) : [h("li", { class: "muted" }, "No reminders yet.")]),
    );
  }

  item(notification) {
    const choice = h(
      "select",
      { "aria-label": `Snooze “${notification.title}” for` },
      SNOOZE_MINUTES.map((minutes) => h("option", { value: minutes }, `${minutes} min`)),
    );
    return h(
      "li",
      { class: notification.readAt === null ? "notification unread" : "notification", "data-id": notification.id },
      h("span", { class: "title" }, notification.title),
      h("span", { class: "muted" }, ` fired ${formatIn(notification.firedAt, undefined)}`),
      notification.snoozedUntil ? h("span", { class: "muted" }, ` · snoozed until ${formatIn(notification.snoozedUntil, undefined)}`) : null,
      h(
        "div",
        { class: "actions" },
        notification.readAt === null
          ? h("button", { type: "button", onclick: () => this.act(MARK_READ, { id: notification.id }) }, "Mark read")
          : h("span", { class: "muted" }, "read"),
        choice,
        h("button", { type: "button", onclick: () => this.act(SNOOZE, { notificationId: notification.id, minutes: Number(choice.value) }) }, "Snooze"),
      ),
    );
  }

  async act(mutation, input) {
    try {
      await this.mutate(mutation, input);
      await this.refresh();
    } catch (error) {
      this.fail(error);
    }
  }

  // A reminder that just fired: a notice until dismissed, and the list again.
  arrived(notice) {
    const element = h(
      "div",
      { class: "notice", role: "status" },
      h("strong", {}, "Reminder: "),
      notice.task.title,
      notice.dueAt ? ` (due ${formatIn(notice.dueAt, notice.task.timeZone)})` : "",
      h("button", { type: "button", onclick: () => { element.remove(); this.act(MARK_READ, { id: notice.notificationId }); } }, "Mark read"),
      h("button", { type: "button", onclick: () => element.remove() }, "Dismiss"),
    );
    this.notices.append(element);
    this.refresh();
  }
}
