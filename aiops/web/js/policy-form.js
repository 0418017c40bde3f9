// The form of a workspace's remediation policy (PUT replaces the whole policy). Numbers are
// checked here against the same bounds as the service; everything else (quantities, names,
// min <= max) is the service's to judge, and its 422 is shown next to each field.

import { h } from "./dom.js";
import { FormFields, listOf } from "./forms.js";

export const ACTIONS = [
  ["restart", "Restart"],
  ["scale", "Scale (replicas, autoscaling)"],
  ["rollback", "Roll back a release"],
  ["raise_limits", "Raise CPU or memory limits"],
];

export const DEFAULTS = {
  enabled: true,
  allowed_actions: ACTIONS.map(([value]) => value),
  applications: [],
  min_replicas: 1,
  max_replicas: 10,
  max_cpu_limit: "2",
  max_memory_limit: "2Gi",
  max_actions_per_hour: 3,
  cooldown_minutes: 10,
  verify_minutes: 5,
  escalate_after_minutes: 30,
};

// name, label, min, max, hint
const NUMBERS = [
  ["min_replicas", "Minimum replicas", 0, 200, "It never scales below this."],
  ["max_replicas", "Maximum replicas", 1, 200, "It never scales above this."],
  ["max_actions_per_hour", "Actions per hour", 1, 60, "Per application; beyond this, it escalates."],
  ["cooldown_minutes", "Cooldown (minutes)", 0, 1440, "Quiet time after an action."],
  ["verify_minutes", "Verification (minutes)", 1, 120, "Healthy this long after a fix: the incident is resolved."],
  ["escalate_after_minutes", "Escalate after (minutes)", 5, 1440, "Unresolved this long after opening: people are called."],
];

/** `onSave(body)` returns a promise of the saved policy; it throws the service's error. */
export function policyForm(policy, { workspace, onSave, onCancel }) {
  const current = { ...DEFAULTS, ...(policy ?? {}) };
  const fields = new FormFields();
  const input = (type, value, extra = {}) => h("input", { type, value: String(value), ...extra });
  const enabled = h("input", { type: "checkbox", checked: current.enabled });
  const save = h("button", { type: "submit", class: "button-primary", text: policy ? "Save the policy" : "Create the policy" });
  const numbers = NUMBERS.map(([name, label, min, max, hint]) =>
    fields.field(name, label, input("number", current[name], { min, max, step: 1, inputmode: "numeric" }), { hint }),
  );
  const form = h(
    "form",
    { class: "form policy-form", novalidate: true, "aria-label": `Remediation policy of ${workspace}` },
    fields.field("enabled", "Remediation is on", enabled, { hint: "Off: incidents are still opened and announced, nothing is changed." }),
    fields.choices("allowed_actions", "What it may do without a person", ACTIONS, current.allowed_actions, {
      hint: "Anything else becomes an approval request.",
    }),
    fields.field("applications", "Applications", input("text", current.applications.join(", "), { autocomplete: "off", spellcheck: "false" }), {
      hint: "Comma-separated names; empty: every application in the workspace.",
    }),
    h("div", { class: "field-grid" }, ...numbers.slice(0, 2)),
    h(
      "div",
      { class: "field-grid" },
      fields.field("max_cpu_limit", "Highest CPU limit", input("text", current.max_cpu_limit, { autocomplete: "off" }), { hint: "e.g. 2 or 1500m" }),
      fields.field("max_memory_limit", "Highest memory limit", input("text", current.max_memory_limit, { autocomplete: "off" }), { hint: "e.g. 2Gi or 512Mi" }),
    ),
    h("div", { class: "field-grid" }, ...numbers.slice(2)),
    fields.summary,
    h("div", { class: "form-actions" }, save, h("button", { type: "button", class: "button-quiet", text: "Cancel", on: { click: onCancel } })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const { body, errors } = read(fields);
    if (errors.size) return fields.show(errors);
    save.disabled = true;
    try {
      await onSave(body);
    } catch (error) {
      fields.showError(error);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function read(fields) {
  const errors = new Map();
  const body = {
    enabled: fields.checked("enabled"),
    allowed_actions: fields.checked("allowed_actions"),
    applications: listOf(fields.value("applications")),
    max_cpu_limit: fields.value("max_cpu_limit"),
    max_memory_limit: fields.value("max_memory_limit"),
  };
  for (const [name, , min, max] of NUMBERS) {
    const text = fields.value(name);
    const value = Number(text);
    if (text === "" || !Number.isInteger(value) || value < min || value > max) {
      errors.set(name, [`Enter a whole number from ${min} to ${max}.`]);
    } else body[name] = value;
  }
  for (const name of ["max_cpu_limit", "max_memory_limit"]) {
    if (!body[name]) errors.set(name, ["Enter a quantity."]);
  }
  return { body, errors };
}
