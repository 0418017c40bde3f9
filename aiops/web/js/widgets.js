// Pieces shared by the incident, policy and channel views: headings, badges, times, and the
// loading and error states of a view.

import { describeError } from "./api.js";
import { formatTime, h } from "./dom.js";

export const STATUS_LABELS = {
  open: "open",
  remediating: "remediating",
  awaiting_approval: "awaiting approval",
  verifying: "verifying",
  escalated: "escalated",
  resolved: "resolved",
};

export const SEVERITY_LABELS = { info: "info", warning: "warning", critical: "critical" };

/** The view's heading (focused when the view opens) and an optional line under it. */
export function viewHeader(title, { lead = null, actions = [] } = {}) {
  return h(
    "div",
    { class: "view-header" },
    h("h1", { class: "view-title", tabindex: "-1", text: title }),
    actions.length ? h("div", { class: "view-actions" }, ...actions) : null,
    lead ? h("p", { class: "view-lead", text: lead }) : null,
  );
}

export function statusBadge(status) {
  return h("span", { class: `badge incident-status state-${status}`, text: STATUS_LABELS[status] ?? status });
}

export function severityBadge(severity) {
  return h("span", { class: `badge severity severity-${severity}`, text: SEVERITY_LABELS[severity] ?? severity });
}

export function timeOf(iso) {
  return iso ? h("time", { datetime: iso, text: formatTime(iso) }) : h("span", { text: "—" });
}

/** Where an incident or a policy applies: workspace / project / application. */
export function placeOf(item) {
  return [item.workspace, item.project, item.application].filter(Boolean).join(" / ");
}

export function loading(text = "Loading…") {
  return h("p", { class: "hint view-loading", role: "status", text });
}

/** An error inside a view, with a Retry button when `retry` is given. */
export function problem(error, retry = null) {
  const text = typeof error === "string" ? error : describeError(error);
  const box = h("div", { class: "view-problem", role: "alert" }, h("p", { text }));
  if (retry) box.append(h("button", { type: "button", text: "Retry", on: { click: retry } }));
  return box;
}

/** A definition list from `[label, value]` pairs (value: text or node; empty pairs skipped). */
export function facts(pairs, className = "facts") {
  const list = h("dl", { class: className });
  for (const [label, value] of pairs) {
    if (value === null || value === undefined || value === "") continue;
    list.append(h("dt", { text: label }), h("dd", {}, value));
  }
  return list;
}
