// An incident's timeline as a vertical list, oldest first: an icon and a label per kind, the
// time, the summary, and the entry's data one click away.

import { h, prettyJson } from "./dom.js";
import { timeOf } from "./widgets.js";

// [icon, label]; the icon is decoration (hidden from screen readers), the label says it
const KINDS = {
  detected: ["!", "Detected"],
  finding: ["i", "Finding"],
  action_proposed: ["→", "Action proposed"],
  action_applied: ["✓", "Action applied"],
  action_failed: ["✗", "Action failed"],
  approval_requested: ["?", "Approval requested"],
  approval_decided: ["⚖", "Approval decided"],
  verification: ["◎", "Verification"],
  escalated: ["⚑", "Escalated"],
  resolved: ["✓", "Resolved"],
  reopened: ["↺", "Reopened"],
  notified: ["✉", "Notified"],
  note: ["✎", "Note"],
};

export function timelineList(events) {
  if (!events.length) return h("p", { class: "hint", text: "Nothing recorded yet." });
  return h("ol", { class: "timeline", "aria-label": "Timeline" }, ...events.map(entry));
}

function entry(event) {
  const [icon, label] = KINDS[event.kind] ?? ["•", event.kind];
  const data = event.data && Object.keys(event.data).length ? event.data : null;
  return h(
    "li",
    { class: `timeline-item kind-${event.kind}`, dataset: { kind: event.kind } },
    h("span", { class: "timeline-icon", "aria-hidden": "true", text: icon }),
    h(
      "div",
      { class: "timeline-body" },
      h("p", { class: "timeline-head" }, h("strong", { class: "timeline-label", text: label }), " ", timeOf(event.at)),
      h("p", { class: "timeline-summary", text: event.summary }),
      data ? h("details", { class: "timeline-data" }, h("summary", { text: "Details" }), h("pre", { class: "json", text: prettyJson(data) })) : null,
    ),
  );
}
