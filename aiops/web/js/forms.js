// Forms of the policy and channel views: labelled fields with their hint and error next to
// them, and the service's 422 field-level detail mapped back onto those fields.

import { ApiError, describeError } from "./api.js";
import { h } from "./dom.js";

let sequence = 0;

/** The fields of one form by name, each with the element its error is shown in. */
export class FormFields {
  constructor() {
    this.fields = new Map();
    this.summary = h("div", { class: "form-problem", role: "alert", hidden: true });
  }

  /** A labelled control: `control` is an input, select or textarea. */
  field(name, label, control, { hint = null } = {}) {
    const id = `field-${++sequence}-${name}`;
    control.id = id;
    control.name = name;
    const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null;
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    control.setAttribute("aria-describedby", [hintEl?.id, error.id].filter(Boolean).join(" "));
    this.fields.set(name, { control, error });
    const labelEl = h("label", { for: id, text: label });
    const row = control.type === "checkbox"
      ? h("div", { class: "field field-check" }, control, labelEl)
      : h("div", { class: "field" }, labelEl, control);
    row.dataset.field = name;
    row.append(...[hintEl, error].filter(Boolean));
    return row;
  }

  /** A group of checkboxes (`options`: [value, label]) under one legend. */
  choices(name, legend, options, checked, { hint = null } = {}) {
    const id = `field-${++sequence}-${name}`;
    const hintEl = hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null;
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    const boxes = options.map(([value, label]) => {
      const box = h("input", { type: "checkbox", id: `${id}-${value}`, name, value, checked: checked.includes(value) });
      return h("div", { class: "field-check" }, box, h("label", { for: box.id, text: label }));
    });
    const set = h(
      "fieldset",
      { class: "field choices", dataset: { field: name }, "aria-describedby": [hintEl?.id, error.id].filter(Boolean).join(" ") },
      h("legend", { text: legend }),
      ...boxes,
      hintEl,
      error,
    );
    this.fields.set(name, { control: set.querySelector("input"), error, group: set });
    return set;
  }

  value(name) {
    return this.fields.get(name)?.control.value.trim() ?? "";
  }

  checked(name) {
    const entry = this.fields.get(name);
    if (!entry) return false;
    if (!entry.group) return entry.control.checked;
    return [...entry.group.querySelectorAll("input:checked")].map((box) => box.value);
  }

  clear() {
    for (const { control, error, group } of this.fields.values()) {
      (group ?? control).removeAttribute("aria-invalid");
      error.textContent = "";
      error.hidden = true;
    }
    this.summary.replaceChildren();
    this.summary.hidden = true;
  }

  /** Show `errors` (name -> [messages]) next to their fields, `general` above the buttons. */
  show(errors, general = []) {
    this.clear();
    let first = null;
    for (const [name, messages] of errors) {
      const entry = this.fields.get(name);
      if (!entry) {
        general.push(...messages.map((message) => `${name}: ${message}`));
        continue;
      }
      (entry.group ?? entry.control).setAttribute("aria-invalid", "true");
      entry.error.textContent = messages.join(" ");
      entry.error.hidden = false;
      first ??= entry.control;
    }
    const lines = errors.size ? ["Some fields need a change: see the messages next to them.", ...general] : general;
    if (lines.length) {
      this.summary.replaceChildren(...lines.map((line) => h("p", { text: line })));
      this.summary.hidden = false;
    }
    (first ?? this.summary).focus?.();
  }

  /** Show what went wrong with a save: field errors where the service named a field. */
  showError(error) {
    const { errors, general } = fieldErrors(error, [...this.fields.keys()]);
    this.show(errors, general);
  }
}

/**
 * The service's error as `{ errors: Map(field -> [messages]), general: [messages] }`. A 422's
 * `details.fields[].field` is a path like `body.max_replicas`, `body.applications.0` or
 * `body.settings.webhook.secret` (form field `webhook.secret`); a check across fields comes as
 * `body` with the field in its text; a domain error may name one in `details.field`.
 */
export function fieldErrors(error, names) {
  const errors = new Map();
  const general = [];
  const add = (name, message) => errors.set(name, [...(errors.get(name) ?? []), message]);
  const fields = error instanceof ApiError ? error.details?.fields : null;
  if (Array.isArray(fields)) {
    for (const item of fields) {
      const message = tidy(item.message);
      const name = fieldName(String(item.field ?? ""), message, names);
      if (name) add(name, message);
      else general.push(message);
    }
  } else if (error instanceof ApiError && typeof error.details?.field === "string" && names.includes(error.details.field)) {
    add(error.details.field, tidy(error.message));
  } else {
    general.push(describeError(error));
  }
  return { errors, general };
}

function fieldName(path, message, names) {
  let parts = path.split(".").filter((part) => part !== "body");
  // a channel's settings come as settings.<kind>.<field>: the form names them <kind>.<field>
  if (parts[0] === "settings") parts = parts.slice(1);
  for (let length = parts.length; length > 0; length -= 1) {
    const candidate = parts.slice(0, length).join(".");
    if (names.includes(candidate)) return candidate;
  }
  // a check across fields names them in its message only
  return names.find((name) => new RegExp(`\\b${name.replace(".", "\\.")}\\b`).test(message)) ?? null;
}

function tidy(message) {
  let text = String(message ?? "invalid").replace(/^Value error, /, "");
  if (!/^\S*_/.test(text)) text = `${text.charAt(0).toUpperCase()}${text.slice(1)}`; // not a field name
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/** Comma- or line-separated words, without blanks. */
export function listOf(text) {
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}
