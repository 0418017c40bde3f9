// One incident (`#/incidents/<id>`): what and where, the pending fix to approve or deny, a
// manual "Resolve" with a note, the application's metrics with anomaly scores, and the
// timeline. Refreshed every 20 s while it is open and not resolved.

import { ApiError } from "./api.js";
import { h } from "./dom.js";
import { anomalySection } from "./anomaly-chart.js";
import { approvalCard } from "./incident-approval.js";
import { FormFields } from "./forms.js";
import { hrefFor } from "./routes.js";
import { timelineList } from "./timeline.js";
import { facts, loading, placeOf, problem, severityBadge, statusBadge, timeOf, viewHeader } from "./widgets.js";

const POLL_MS = 20_000;

export function renderIncident(root, ctx, route) {
  const view = new IncidentView(root, ctx, route.id);
  view.start();
  return view;
}

class IncidentView {
  constructor(root, ctx, id) {
    this.ctx = ctx;
    this.id = id;
    this.top = h("div", { class: "incident-top" }, viewHeader("Incident"), loading("Loading the incident…"));
    this.approval = h("div", { class: "incident-approval" });
    this.resolve = h("div", { class: "incident-resolve" });
    this.chart = h("div", { class: "incident-chart" });
    this.timeline = h("section", { class: "card incident-timeline", "aria-labelledby": "timeline-title" });
    root.append(
      h("p", { class: "back-link" }, h("a", { href: hrefFor("incidents"), text: "← All incidents" })),
      this.top,
      this.approval,
      this.chart,
      this.timeline,
      this.resolve,
    );
    this.incident = null;
    this.approvalId = null;
    this.timer = null;
  }

  url() {
    return `/api/v1/organizations/${encodeURIComponent(this.ctx.org)}/incidents/${encodeURIComponent(this.id)}`;
  }

  async start() {
    try {
      this.show(await this.ctx.api.json(this.url()));
    } catch (error) {
      if (error instanceof ApiError && (error.status === 404 || error.status === 422) && (await this.elsewhere())) return;
      const text = error instanceof ApiError && [404, 422].includes(error.status) ? "There is no such incident, or you may not see it." : error;
      this.top.replaceChildren(viewHeader("Incident"), problem(text, error instanceof ApiError && error.status < 500 ? null : () => this.start()));
      return;
    }
    const { element, load } = anomalySection(this.ctx.api, this.ctx.org, this.incident);
    this.chart.replaceChildren(element);
    load();
    if (!this.disposed) this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  /** A link from a notification may name another of this person's organizations. */
  async elsewhere() {
    for (const org of this.ctx.orgs.filter((name) => name !== this.ctx.org)) {
      try {
        await this.ctx.api.json(`/api/v1/organizations/${encodeURIComponent(org)}/incidents/${encodeURIComponent(this.id)}`);
      } catch {
        continue;
      }
      this.ctx.switchOrg(org);
      return true;
    }
    return false;
  }

  async refresh() {
    try {
      this.show(await this.ctx.api.json(this.url()));
    } catch (error) {
      this.ctx.reportError(error, () => this.refresh());
    }
  }

  poll() {
    if (this.incident?.status !== "resolved" && document.visibilityState === "visible") this.refresh();
  }

  dispose() {
    this.disposed = true;
    clearInterval(this.timer);
  }

  show(incident) {
    const first = this.incident === null;
    this.incident = incident;
    const refresh = h("button", { type: "button", class: "button-quiet", text: "Refresh", on: { click: () => this.refresh() } });
    this.top.replaceChildren(viewHeader(incident.title, { actions: [refresh] }), this.summary(incident));
    this.timeline.replaceChildren(h("h2", { id: "timeline-title", text: "Timeline" }), timelineList(incident.timeline));
    this.showApproval(incident);
    this.showResolve(incident);
    if (first) this.top.querySelector("h1")?.focus();
  }

  summary(incident) {
    const signals = incident.signals.length
      ? h("ul", { class: "signals" }, ...incident.signals.map((signal) => h("li", { class: "signal", text: signal })))
      : "none";
    return h(
      "section",
      { class: "card incident-summary", "aria-label": "Summary" },
      h("p", { class: "incident-badges" }, severityBadge(incident.severity), " ", statusBadge(incident.status)),
      h("p", { class: "incident-text", text: incident.summary }),
      facts([
        ["Where", placeOf(incident)],
        ["Signals", signals],
        ["Actions taken", String(incident.actions)],
        ["Source", incident.source === "alertmanager" ? "Alertmanager" : "the service's detector"],
        ["Opened", timeOf(incident.opened_at)],
        ["Last detected", timeOf(incident.last_detected_at)],
        ["Last action", incident.acted_at ? timeOf(incident.acted_at) : null],
        ["Resolved", incident.resolved_at ? timeOf(incident.resolved_at) : null],
      ]),
    );
  }

  async showApproval(incident) {
    const id = incident.status === "awaiting_approval" ? incident.approval_id : null;
    if (id === this.approvalId) return;
    // a decided card keeps its outcome in view until the incident is resolved
    const decided = this.approval.querySelector("[data-outcome]");
    if (!id && decided && incident.status !== "resolved") return;
    this.approvalId = id;
    if (!id) {
      this.approval.replaceChildren();
      return;
    }
    const card = await approvalCard(this.ctx, incident, { onDecided: () => this.refresh() });
    if (this.approvalId === id) this.approval.replaceChildren(card.element);
  }

  showResolve(incident) {
    if (incident.status === "resolved") {
      this.resolve.replaceChildren();
      return;
    }
    if (this.resolve.childElementCount) return; // keep what is being typed
    const fields = new FormFields();
    const note = h("textarea", { rows: "2", maxlength: "2000", required: true });
    const button = h("button", { type: "submit", text: "Resolve" });
    const form = h(
      "form",
      { class: "card form resolve-form", "aria-labelledby": "resolve-title", novalidate: true },
      h("h2", { id: "resolve-title", text: "Resolve by hand" }),
      fields.field("note", "What was done", note, { hint: "Kept on the timeline. The application's next problem opens a new incident." }),
      fields.summary,
      h("div", { class: "form-actions" }, button),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = note.value.trim();
      if (!text) return fields.show(new Map([["note", ["Say what was done, for the record."]]]));
      button.disabled = true;
      try {
        const done = await this.ctx.api.json(`${this.url()}/resolve`, { method: "POST", json: { note: text } });
        this.resolve.replaceChildren();
        this.show(done);
      } catch (error) {
        fields.showError(error);
        if (error instanceof ApiError && error.status === 409) this.refresh();
      } finally {
        button.disabled = false;
      }
    });
    this.resolve.replaceChildren(form);
  }
}
