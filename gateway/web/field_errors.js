// A mutation's userErrors shown in its form: each next to the input its path names, with
// aria-invalid on the input and aria-describedby pointing at the message; an error with no field,
// or one the form has no input for, goes in the form's general error area.
import { h } from "./dom.js";

const SHOWN_VALUE = 24; // characters of a list item quoted in its message

function quoted(value) {
  const text = String(value);
  return `“${text.length > SHOWN_VALUE ? `${text.slice(0, SHOWN_VALUE)}…` : text}”`;
}

export class FieldErrors {
  // `controls` maps an input field to the form control holding it where their names differ
  // (dueAt → due); a field named by neither stays general.
  constructor(form, general, controls = {}) {
    this.form = form;
    this.general = general;
    this.controls = controls;
    this.marked = [];
  }

  // The form control a path into the input names (["input", "tags", "2"] → tags), or null.
  control(field) {
    if (!field || field[0] !== "input" || field.length < 2) return null;
    const name = Object.hasOwn(this.controls, field[1]) ? this.controls[field[1]] : field[1];
    const control = name ? this.form.elements.namedItem(name) : null;
    return control instanceof HTMLElement && control.name === name ? control : null;
  }

  clear() {
    for (const { control, message } of this.marked) {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
      message.remove();
    }
    this.marked = [];
    this.general.replaceChildren();
    this.general.hidden = true;
  }

  // Shows `errors` instead of any shown before; `input` (what was sent) names a list's item in
  // its message. Focus moves to the first input at fault.
  show(errors, input = {}) {
    this.clear();
    const byControl = new Map();
    const general = [];
    for (const error of errors) {
      const control = this.control(error.field);
      const [, name, index] = error.field ?? [];
      const items = input[name];
      const item = index !== undefined && Array.isArray(items) && items[Number(index)] !== undefined;
      const text = item ? `${quoted(items[Number(index)])}: ${error.message}` : error.message;
      if (control === null) {
        general.push(error.field ? `${error.field.slice(1).join(".")}: ${text}` : text);
      } else {
        if (!byControl.has(control)) byControl.set(control, []);
        byControl.get(control).push(text);
      }
    }
    for (const [control, texts] of byControl) {
      const id = `${this.form.id}-${control.name}-error`;
      const lines = texts.flatMap((text, at) => [at ? " " : null, h("span", {}, text)]);
      const message = h("p", { id, class: "field-error" }, lines);
      control.setAttribute("aria-invalid", "true");
      control.setAttribute("aria-describedby", id);
      (control.closest("label") ?? control).after(message);
      this.marked.push({ control, message });
    }
    if (general.length) {
      this.general.replaceChildren(...general.map((text) => h("p", {}, text)));
      this.general.hidden = false;
    }
    const first = [...byControl.keys()].sort((a, b) =>
      a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1,
    )[0];
    first?.focus();
  }
}
