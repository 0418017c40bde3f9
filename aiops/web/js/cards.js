// The two cards of a conversation: a tool call (collapsible, with its arguments and result) and
// an approval request (Approve / Deny).

import { formatTime, h, prettyJson } from "./dom.js";
import { hasSeries, renderCharts } from "./charts.js";

const STATUS_LABELS = {
  running: "running",
  ok: "done",
  no_data: "no data",
  error: "failed",
  approval_required: "awaiting approval",
  denied: "not run",
};

let sequence = 0;
const nextId = (prefix) => `${prefix}-${++sequence}`;

export class ToolCard {
  /** `call`: a tool_call event, or the same fields from history. */
  constructor(call) {
    this.callId = call.call_id;
    this.status = h("span", { class: "badge badge-status" });
    this.body = h("div", { class: "tool-result" }, h("p", { class: "hint", text: "Waiting for the result…" }));
    this.charts = h("div", { class: "charts" });
    const summary = h(
      "summary",
      {},
      h("span", { class: "tool-label", text: "Tool" }),
      h("code", { class: "tool-name", text: call.tool }),
      call.risk ? h("span", { class: `badge badge-risk risk-${call.risk}`, text: call.risk }) : null,
      this.status,
    );
    const argumentsId = nextId("tool-args");
    this.element = h(
      "article",
      { class: "tool-card", dataset: { callId: call.call_id ?? "", tool: call.tool }, "aria-label": `Tool call ${call.tool}` },
      h(
        "details",
        {},
        summary,
        h(
          "div",
          { class: "tool-body" },
          h("h4", { id: argumentsId, text: "Arguments" }),
          h("pre", { class: "json", "aria-labelledby": argumentsId, text: prettyJson(call.arguments ?? {}) }),
          h("h4", { text: "Result" }),
          this.body,
        ),
      ),
      this.charts,
    );
    this.setStatus("running");
  }

  setStatus(status) {
    this.element.dataset.status = status;
    this.status.className = `badge badge-status status-${status}`;
    this.status.textContent = STATUS_LABELS[status] ?? status;
    if (status === "approval_required" && !this.hasResult) {
      this.body.replaceChildren(h("p", { class: "hint", text: "Not run yet: it waits for an approval." }));
    }
  }

  /** `result`: a tool_result event (or `{status, summary}` from history). */
  setResult(result) {
    this.hasResult = true;
    this.setStatus(result.status);
    const parts = [h("p", { class: "tool-summary", text: result.summary || "(no summary)" })];
    if (result.note) parts.push(h("p", { class: "tool-note", text: result.note }));
    if (result.data !== null && result.data !== undefined) {
      parts.push(
        h("details", { class: "tool-data" }, h("summary", { text: "Data" }), h("pre", { class: "json", text: prettyJson(result.data) })),
      );
    }
    this.body.replaceChildren(...parts);
    // charts go outside the collapsed details, so they are seen (and can be measured)
    if (hasSeries(result.data) && this.element.isConnected) renderCharts(this.charts, result.data);
  }
}

const APPROVERS = {
  requester: "You, the person who asked",
  admin: "A workspace or organization admin",
};

export class ApprovalCard {
  /**
   * `approval`: an approval_required event (or an approval from the API, mapped to its fields).
   * `onDecide(approve)` returns a promise; it settles when the decision has been taken.
   */
  constructor(approval, { onDecide }) {
    this.approval = approval;
    this.onDecide = onDecide;
    const titleId = nextId("approval-title");
    this.title = h("h3", { id: titleId, tabindex: "-1", text: "Approval needed" });
    this.approve = h("button", { type: "button", class: "button-primary", text: "Approve", on: { click: () => this.decide(true) } });
    this.deny = h("button", { type: "button", text: "Deny", on: { click: () => this.decide(false) } });
    this.state = h("p", { class: "approval-state", role: "status" });
    this.expiry = h("dd", { dataset: approval.expires_at ? { expiresAt: approval.expires_at } : {} });
    this.element = h(
      "div",
      { class: "approval-card", role: "group", "aria-labelledby": titleId, dataset: { approvalId: approval.approval_id } },
      this.title,
      h("p", { class: "approval-description", text: approval.description }),
      h(
        "dl",
        { class: "approval-facts" },
        h("dt", { text: "Action" }),
        h("dd", {}, h("code", { text: approval.tool }), " ", h("span", { class: `badge badge-risk risk-${approval.risk}`, text: approval.risk })),
        h("dt", { text: "Who must approve" }),
        h("dd", { text: APPROVERS[approval.approver] ?? approval.approver }),
        h("dt", { text: "Expires" }),
        this.expiry,
      ),
      h("details", {}, h("summary", { text: "Exact arguments" }), h("pre", { class: "json", text: prettyJson(approval.arguments ?? {}) })),
      h("div", { class: "approval-actions" }, this.approve, this.deny),
      this.state,
    );
    this.tick();
  }

  /** False when the expiry is not known (the approval was not listed for this person). */
  expired() {
    return Date.parse(this.approval.expires_at) <= Date.now();
  }

  /** Refresh the "expires in" text (called by a page-wide timer too). */
  tick() {
    const at = this.approval.expires_at;
    if (!at) {
      this.expiry.textContent = "not known";
      return;
    }
    const minutes = Math.round((Date.parse(at) - Date.now()) / 60000);
    const relative = minutes <= 0 ? "expired" : `in ${minutes} min`;
    this.expiry.textContent = `${formatTime(at)} (${relative})`;
    if (!this.decided && this.expired()) this.finish("This request expired: nothing was changed.", "expired");
  }

  async decide(approve) {
    if (this.busy || this.decided) return;
    if (this.expired()) {
      this.tick();
      return;
    }
    this.setBusy(true, approve ? "Approving…" : "Denying…");
    try {
      await this.onDecide(approve);
      this.finish(approve ? "Approved: the change runs now." : "Denied: nothing was changed.", approve ? "approved" : "denied");
    } catch (error) {
      this.setBusy(false, error.message);
      // a decision someone else already took, or a request gone, cannot be retried
      if (error.status === 409 || error.status === 404) this.finish(error.message, "closed");
      else this.state.classList.add("error-text");
    }
  }

  setBusy(busy, message) {
    this.busy = busy;
    this.approve.disabled = busy;
    this.deny.disabled = busy;
    this.element.setAttribute("aria-busy", String(busy));
    this.state.classList.remove("error-text");
    this.state.textContent = message ?? "";
  }

  finish(message, outcome) {
    this.decided = true;
    this.busy = false;
    this.approve.disabled = true;
    this.deny.disabled = true;
    this.element.setAttribute("aria-busy", "false");
    this.element.dataset.outcome = outcome;
    this.state.textContent = message;
  }

  /** Shown when someone else decides: no buttons, only who is awaited. */
  withoutButtons(message) {
    this.approve.hidden = true;
    this.deny.hidden = true;
    this.state.textContent = message;
  }
}
