// The board: signs in, lists tasks, applies live updates, and wires the forms and dialogs.
import { EditDialog, HistoryDialog, splitList, unreadableZone } from "./dialogs.js";
import { byId, debounce, h } from "./dom.js";
import { FieldErrors } from "./field_errors.js";
import { mutate, request, UserInputError } from "./graphql.js";
import { Notifications } from "./notifications.js";
import { wireQuickAdd } from "./quick_add.js";
import { COMPLETE, CREATE, DELETE, LIST, PREVIEW, REMINDERS, REOPEN, TASK_UPDATES } from "./queries.js";
import { forgetToken, saveToken, takeToken, userOf } from "./session.js";
import { comparator, matches, renderTask } from "./tasks_view.js";
import { LiveConnection } from "./transport_ws.js";
import { Undo } from "./undo.js";
import { browserZone, formatIn, zonedToIso, zoneNames } from "./zones.js";

const PAGE_SIZE = 20;
const STATE_TEXT = { connecting: "connecting…", live: "live", reconnecting: "reconnecting…", refused: "disconnected: sign in again" };

let token = null;
let live = null;
const list = { tasks: [], hasNext: false, endCursor: null, total: 0, filter: {}, order: { field: "CREATED_AT", direction: "DESC" } };
// The newest version of every task an update brought (or null once deleted): a page read
// before an update arrived must not bring back what the update replaced.
const seen = new Map();
let lastCursor = null;

function call(query, variables) {
  return request(token, query, variables);
}

// A mutation's payload; its userErrors fail it as a UserInputError (`fail` shows their codes).
function mutation(document, input) {
  return mutate(token, document, input);
}

function fail(error) {
  const box = byId("errors");
  box.replaceChildren(
    h("span", {}, error.code ? `${error.code}: ${error.message}` : String(error.message ?? error)),
    h("button", { type: "button", onclick: () => { box.hidden = true; } }, "Dismiss"),
  );
  box.hidden = false;
  if (error.code === "UNAUTHENTICATED") showSignIn();
}

function renderList() {
  const items = list.tasks.map((task) => renderTask(task, act));
  byId("tasks").replaceChildren(...(items.length ? items : [h("li", { class: "muted" }, "No tasks here.")]));
  byId("total").textContent = `(${list.total})`;
  byId("load-more").hidden = !list.hasNext;
}

function newer(task) {
  const known = seen.get(task.id);
  if (known === undefined) return task;
  return known === null || known.version > task.version ? known : task;
}

// Puts `task` where it belongs in the loaded list, or takes it out (null = deleted).
function place(id, task) {
  const index = list.tasks.findIndex((item) => item.id === id);
  const present = index >= 0;
  if (present && task !== null && list.tasks[index].version >= task.version) return;
  if (present) list.tasks.splice(index, 1);
  const belongs = task !== null && matches(list.filter, task, present);
  const compare = comparator(list.order);
  const last = list.tasks[list.tasks.length - 1];
  if (belongs && !(list.hasNext && last !== undefined && compare(task, last) > 0)) {
    const at = list.tasks.findIndex((item) => compare(task, item) < 0);
    list.tasks.splice(at < 0 ? list.tasks.length : at, 0, task);
  }
  list.total += (belongs ? 1 : 0) - (present ? 1 : 0);
  renderList();
}

function applyUpdate(update) {
  lastCursor = update.cursor;
  const id = update.task.id;
  if (update.kind === "DELETED") {
    seen.set(id, null);
    place(id, null);
    return;
  }
  const known = seen.get(id);
  if (known === null) return; // deleted meanwhile
  if (known === undefined || known.version < update.task.version) seen.set(id, update.task);
  place(id, update.task);
}

function readFilter() {
  const fields = byId("filter-form").elements;
  const filter = {};
  if (fields.status.value) filter.status = fields.status.value;
  if (fields.priority.value) filter.priorities = [fields.priority.value];
  const tags = splitList(fields.tags.value);
  if (tags.length) filter.tags = tags;
  if (fields.dueAfter.value) filter.dueAfter = zonedToIso(fields.dueAfter.value, browserZone());
  if (fields.dueBefore.value) filter.dueBefore = zonedToIso(fields.dueBefore.value, browserZone());
  if (fields.overdue.checked) filter.overdue = true;
  if (fields.search.value.trim()) filter.search = fields.search.value.trim();
  const [field, direction] = fields.sort.value.split(":");
  return { filter, order: { field, direction } };
}

// The first page (fresh: a new filter or order) or the next one; the first page of a session
// also gives the change cursor that live updates start from.
let loading = 0;
async function load(more) {
  const { filter, order } = more ? list : readFilter();
  const request = ++loading;
  const data = await call(LIST, {
    filter, orderBy: [order], first: PAGE_SIZE, after: more ? list.endCursor : null, withCursor: lastCursor === null,
  });
  if (request !== loading) return; // a newer filter's page is on its way
  const page = data.tasks;
  if (lastCursor === null) lastCursor = page.changeCursor;
  const fresh = page.edges.map((edge) => newer(edge.node)).filter((task) => task !== null);
  if (more) {
    const loaded = new Set(list.tasks.map((task) => task.id));
    list.tasks.push(...fresh.filter((task) => !loaded.has(task.id)));
  } else {
    Object.assign(list, { tasks: fresh, filter, order });
  }
  Object.assign(list, { hasNext: page.pageInfo.hasNextPage, endCursor: page.pageInfo.endCursor, total: page.totalCount });
  renderList();
}

async function act(name, task) {
  try {
    if (name === "complete") changed("Completed", (await mutation(COMPLETE, { id: task.id })).task);
    else if (name === "reopen") changed("Reopened", (await mutation(REOPEN, { id: task.id })).task);
    else if (name === "delete") {
      await mutation(DELETE, { id: task.id });
      seen.set(task.id, null);
      place(task.id, null);
      undo.offer(`Deleted “${task.title}”.`, task.id, null);
    } else if (name === "edit") editDialog.open(task);
    else if (name === "history") await historyDialog.open(task);
  } catch (error) {
    fail(error);
  }
}

// A change made here: shown, and offered for undoing for a few seconds (undo.js).
function changed(what, task) {
  place(task.id, task);
  undo.offer(`${what} “${task.title}”.`, task.id, task);
}

// A task an undo brings back (or, null, takes away): it may be one a delete marked as gone.
function undone(id, task) {
  seen.delete(id);
  if (task === null) seen.set(id, null);
  place(id, task);
}

const undo = new Undo(call, mutation, undone, fail);
const editDialog = new EditDialog(call, mutation, (task) => changed("Saved", task));
const historyDialog = new HistoryDialog(call, (entry) => undo.revert(entry.id).catch(fail));
const notifications = new Notifications(call, mutation, fail);

// Where the create form holds each CreateTaskInput field whose name differs from its input's.
const CREATE_CONTROLS = { dueAt: "due", remindMinutesBefore: "remindBefore", requestId: null };

// The form as a CreateTaskInput; a zone the browser cannot read its times in fails it at once.
function createInput(form) {
  const fields = form.elements;
  const zone = fields.timeZone.value.trim() || browserZone();
  const input = { title: fields.title.value, priority: fields.priority.value, timeZone: zone };
  if (fields.description.value) input.description = fields.description.value;
  const tags = splitList(fields.tags.value);
  if (tags.length) input.tags = tags;
  const instant = (local) => {
    try {
      return zonedToIso(local, zone);
    } catch (error) {
      throw new UserInputError([unreadableZone(zone, error)], null);
    }
  };
  if (fields.due.value) input.dueAt = instant(fields.due.value);
  if (fields.recurrence.value.trim()) input.recurrence = fields.recurrence.value.trim();
  const before = splitList(fields.remindBefore.value).map(Number);
  if (before.length) input.remindMinutesBefore = before;
  if (fields.remindAt.value) input.remindAt = [instant(fields.remindAt.value)];
  return input;
}

let previewSequence = 0;

// Empties the preview and drops any answer still on its way (it describes a form now reset).
function clearPreview() {
  previewSequence += 1;
  byId("recurrence-preview").replaceChildren();
}

async function preview() {
  const fields = byId("create-form").elements;
  const box = byId("recurrence-preview");
  const text = fields.recurrence.value.trim();
  const sequence = ++previewSequence;
  if (!text) {
    box.replaceChildren();
    return;
  }
  const zone = fields.timeZone.value.trim() || browserZone();
  let content;
  try {
    const variables = { text, timeZone: zone };
    if (fields.due.value) variables.dueAt = zonedToIso(fields.due.value, zone);
    const rule = (await call(PREVIEW, variables)).parseRecurrence;
    content = [
      h("p", {}, h("strong", {}, rule.text), ` · ${rule.rule}`, rule.basis === "COMPLETION" ? " · after completion" : ""),
      h("p", {}, "Next:"),
      h("ol", { class: "occurrences" }, rule.occurrences.map((at) => h("li", {}, formatIn(at, zone)))),
    ];
  } catch (error) {
    content = [h("p", { class: "error" }, `${error.code ?? "BAD_USER_INPUT"}: ${error.message}`)];
  }
  if (sequence === previewSequence) box.replaceChildren(...content);
}

function startLive() {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  live = new LiveConnection(`${scheme}://${window.location.host}/graphql`, token);
  live.addEventListener("state", (event) => {
    const indicator = byId("connection");
    indicator.dataset.state = event.detail;
    indicator.textContent = STATE_TEXT[event.detail];
    if (event.detail === "live") notifications.refresh();
  });
  live.addEventListener("refused", (event) => fail({ code: "UNAUTHENTICATED", message: event.detail }));
  const updates = live.subscribe(TASK_UPDATES, () => ({ since: lastCursor }), {
    next: (payload) => (payload.errors ? fail({ code: payload.errors[0].extensions?.code, message: payload.errors[0].message }) : applyUpdate(payload.data.taskUpdates)),
    error: (errors) => {
      // Ended (a slow reader, a service restart): resume from the last cursor.
      fail({ code: errors[0]?.extensions?.code, message: `live updates stopped: ${errors[0]?.message}; resuming` });
      window.setTimeout(() => live.resubscribe(updates), 1000);
    },
    complete: () => window.setTimeout(() => live.resubscribe(updates), 1000),
  });
  const reminders = live.subscribe(REMINDERS, () => ({}), {
    next: (payload) => (payload.errors ? fail({ message: payload.errors[0].message }) : notifications.arrived(payload.data.reminders)),
    error: (errors) => {
      fail({ code: errors[0]?.extensions?.code, message: errors[0]?.message });
      window.setTimeout(() => live.resubscribe(reminders), 1000);
    },
    complete: () => window.setTimeout(() => live.resubscribe(reminders), 1000),
  });
  live.start();
}

// Back to the sign-in form (the token was refused or has expired), keeping the error in view.
function showSignIn() {
  forgetToken();
  live?.stop();
  live = null;
  lastCursor = null;
  seen.clear();
  byId("board").hidden = true;
  byId("sign-out").hidden = true;
  byId("who").textContent = "";
  byId("sign-in").hidden = false;
}

async function signIn() {
  byId("sign-in").hidden = true;
  byId("board").hidden = false;
  byId("sign-out").hidden = false;
  byId("who").textContent = `signed in as ${userOf(token)}`;
  byId("create-form").elements.timeZone.value = browserZone();
  try {
    await load(false);
  } catch (error) {
    fail(error);
    return;
  }
  startLive();
}

function wire() {
  byId("zones").replaceChildren(...zoneNames().map((zone) => h("option", { value: zone })));
  byId("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveToken(byId("token-input").value);
    token = takeToken();
    byId("errors").hidden = true;
    signIn();
  });
  byId("sign-out").addEventListener("click", () => {
    showSignIn();
    byId("errors").hidden = true;
  });
  const create = byId("create-form");
  const createErrors = new FieldErrors(create, byId("create-errors"), CREATE_CONTROLS);
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    createErrors.clear();
    let input;
    try {
      input = createInput(create);
      const { task } = await mutation(CREATE, input);
      place(task.id, newer(task));
      undo.offer(`Added “${task.title}”.`, task.id, task);
      const zone = create.elements.timeZone.value;
      create.reset();
      create.elements.timeZone.value = zone;
      clearPreview();
      create.elements.title.focus();
    } catch (error) {
      // Each refused field next to its input; anything else as every error is shown.
      if (error instanceof UserInputError) createErrors.show(error.userErrors, input);
      else fail(error);
    }
  });
  wireQuickAdd({
    call,
    mutation,
    zone: () => create.elements.timeZone.value || browserZone(),
    created: (task) => {
      place(task.id, newer(task));
      undo.offer(`Added “${task.title}”.`, task.id, task);
    },
    fail,
  });
  const schedulePreview = debounce(preview, 300);
  for (const name of ["recurrence", "timeZone", "due"]) create.elements[name].addEventListener("input", schedulePreview);
  const reload = debounce(() => load(false).catch(fail), 300);
  byId("filter-form").addEventListener("input", reload);
  byId("filter-form").addEventListener("submit", (event) => event.preventDefault());
  byId("load-more").addEventListener("click", () => load(true).catch(fail));
}

// Whatever fails unexpectedly is shown too, never a silently blank page.
window.addEventListener("unhandledrejection", (event) => fail(event.reason));
wire();
token = takeToken();
if (token) signIn();
else byId("sign-in").hidden = false;
