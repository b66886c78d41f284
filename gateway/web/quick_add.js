// The quick-add box: one line ("Pay rent every month on the 1st at 9am #home !high") becomes a
// task. While typing pauses, parseQuickAdd says which words became which field: they are
// highlighted in the box itself, and listed as chips under it (the box's accessible
// description, for screen readers). Enter creates the task with quickAddTask. The detailed form
// stays below it.
//
// The highlights are a backdrop behind the box (whose background is transparent): the same text
// in the same font and padding, invisible but for a <mark> around each part, scrolled with the
// box. The box stays on top, so its text is selected and edited as in any input.
import { byId, h } from "./dom.js";
import { UserInputError } from "./graphql.js";
import { PARSE_QUICK_ADD, QUICK_ADD } from "./queries.js";

const LABELS = { TITLE: "title", DUE: "due", RECURRENCE: "repeats", TAG: "tag", PRIORITY: "priority", REMINDER: "reminder" };
const NOTHING = { points: [], spans: [] };

// `call(document, variables)` runs a query, `mutation(document, input)` a mutation (both with
// the signed-in token); `zone()` is the zone to read the line in; `created(task)` places it.
export function wireQuickAdd({ call, mutation, zone, created, fail }) {
  const form = byId("quick-add-form");
  const input = byId("quick-add-input");
  const backdrop = byId("quick-add-backdrop");
  const parts = byId("quick-add-parts");
  const errors = byId("quick-add-errors");
  let asked = 0;
  let timer;
  // The last answer shown: the line it read (as code points) and its spans.
  let shown = NOTHING;

  function showErrors(messages) {
    errors.replaceChildren(...messages.map((message) => h("p", {}, message)));
    errors.hidden = messages.length === 0;
    input.setAttribute("aria-invalid", messages.length ? "true" : "false");
  }

  function showParts(text, preview) {
    const points = Array.from(text); // spans count code points, not UTF-16 units
    parts.replaceChildren(
      ...preview.spans.map((span) =>
        h(
          "li",
          { class: `chip chip-${span.field.toLowerCase()}`, "data-field": span.field, title: LABELS[span.field] },
          h("span", { class: "chip-label" }, LABELS[span.field]),
          " ",
          h("span", { class: "chip-text" }, points.slice(span.start, span.end).join("")),
        ),
      ),
    );
  }

  function show(text, spans) {
    shown = { points: Array.from(text), spans };
    highlight();
  }

  // The backdrop holds the box's text as it is now, with a mark around each part of the last
  // answer that still reads the same: the same words at the same place, still a whole word.
  // Typing on at the end keeps the marks before it; an edit before a part drops its mark until
  // the next answer, rather than marking words that were not read.
  function highlight() {
    const points = Array.from(input.value);
    const children = [];
    let at = 0;
    for (const span of shown.spans) {
      if (span.field === "TITLE" || !holds(points, span)) continue;
      children.push(points.slice(at, span.start).join(""));
      const words = points.slice(span.start, span.end).join("");
      children.push(h("mark", { class: `qa-${span.field.toLowerCase()}`, "data-field": span.field }, words));
      at = span.end;
    }
    children.push(points.slice(at).join(""));
    backdrop.replaceChildren(...children.filter((child) => child !== ""));
    follow();
  }

  function holds(points, { start, end }) {
    const old = shown.points;
    for (let i = start; i < end; i++) if (points[i] !== old[i]) return false;
    return sameEdge(points[start - 1], old[start - 1]) && sameEdge(points[end], old[end]);
  }

  // Scrolls the backdrop with the box; again once the caret has been brought into view.
  function follow() {
    backdrop.scrollLeft = input.scrollLeft;
    window.requestAnimationFrame(() => {
      backdrop.scrollLeft = input.scrollLeft;
    });
  }

  async function preview() {
    const text = input.value;
    const mine = ++asked;
    if (!text.trim()) {
      parts.replaceChildren();
      show(text, []);
      showErrors([]);
      return;
    }
    try {
      const data = await call(PARSE_QUICK_ADD, { text, timeZone: zone() });
      if (mine !== asked) return; // typed on since: a newer answer is coming
      showErrors([]);
      showParts(text, data.parseQuickAdd);
      show(text, data.parseQuickAdd.spans);
    } catch (error) {
      if (mine !== asked) return;
      show(text, []);
      if (error.code === "BAD_USER_INPUT") showErrors([error.message]);
      else fail(error);
    }
  }

  // Once typing pauses; Enter cancels a preview not yet asked for (the answer shows the refusal).
  input.addEventListener("input", () => {
    highlight();
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 250);
  });
  for (const event of ["scroll", "keyup", "select", "pointerup", "focus", "blur"]) {
    input.addEventListener(event, follow);
  }
  document.addEventListener("selectionchange", () => {
    if (document.activeElement === input) follow();
  });
  window.addEventListener("resize", follow);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    window.clearTimeout(timer);
    asked++; // a preview still on its way is for the line just sent
    try {
      const { task } = await mutation(QUICK_ADD, { text: input.value, timeZone: zone() });
      created(task);
      input.value = "";
      parts.replaceChildren();
      show("", []);
      showErrors([]);
    } catch (error) {
      if (error instanceof UserInputError) showErrors(error.userErrors.map((e) => e.message));
      else fail(error);
    }
  });
}

// Whether two characters beside a part bound it alike: the same one, or both a word's end.
function sameEdge(now, then) {
  return now === then || (isBreak(now) && isBreak(then));
}

function isBreak(point) {
  return point === undefined || /\s/u.test(point);
}
