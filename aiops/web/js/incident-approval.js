// Deciding an incident's pending fix: the chat's approval card (cards.js), fed from the
// approvals this person may decide, and the decision's event stream (sse.js) read to its end.

import { describeError } from "./api.js";
import { ApprovalCard } from "./cards.js";
import { TERMINAL, readEvents } from "./sse.js";

const CHAT = "/api/v1/chat";

/**
 * The card for `incident.approval_id`. When the approval is not among those this person may
 * decide, the card still offers the buttons: the service says why it refuses (403).
 * `onDecided()` runs once the decision's turn has ended.
 */
export async function approvalCard(ctx, incident, { onDecided }) {
  let listed = null;
  try {
    const approvals = await ctx.api.json(`${CHAT}/approvals?organization=${encodeURIComponent(ctx.org)}`);
    listed = approvals.find((approval) => approval.id === incident.approval_id) ?? null;
  } catch {
    // not listed: the card falls back on the timeline's description
  }
  const asked = [...incident.timeline].reverse().find((e) => e.kind === "approval_requested" && e.data?.approval_id === incident.approval_id);
  const approval = {
    approval_id: incident.approval_id,
    tool: listed?.tool ?? asked?.data?.tool ?? "unknown",
    risk: listed?.risk ?? "write",
    arguments: listed?.arguments ?? {},
    description: listed?.description ?? (asked?.summary ?? incident.title).replace(/^needs approval: /, ""),
    // the remediation agent asked: a workspace or organization admin decides
    approver: "admin",
    expires_at: listed?.expires_at ?? null,
  };
  const card = new ApprovalCard(approval, { onDecide: (approve) => decide(ctx, card, approve, onDecided) });
  card.title.textContent = "The proposed fix needs an approval";
  if (!listed) card.state.textContent = "Only a workspace or organization admin can decide this one.";
  return card;
}

/** Resolves once the service took the decision; the turn's outcome then goes on the card. */
function decide(ctx, card, approve, onDecided) {
  const id = encodeURIComponent(card.approval.approval_id);
  return new Promise((resolve, reject) => {
    (async () => {
      let response;
      try {
        response = await ctx.api.fetch(`${CHAT}/approvals/${id}/${approve ? "approve" : "deny"}`, { method: "POST", accept: "text/event-stream" });
      } catch (error) {
        reject(Object.assign(new Error(describeError(error)), { status: error.status }));
        return;
      }
      resolve();
      const outcome = await follow(response, approve);
      card.state.textContent = outcome;
      card.element.dataset.result = "done";
      onDecided();
    })();
  });
}

/** Read the decision's turn to its end; what happened, in a sentence. */
async function follow(response, approve) {
  const results = [];
  try {
    for await (const event of readEvents(response.body)) {
      if (event.data.type === "tool_result") results.push(event.data);
      if (event.data.type === "error") return `Approved, but the change failed: ${event.data.message}`;
      if (TERMINAL.has(event.data.type)) break;
    }
  } catch {
    return "The decision was taken; its outcome will show in the timeline.";
  }
  if (!approve) return "Denied: nothing was changed. The incident is escalated at the next check.";
  const applied = results.at(-1);
  if (!applied) return "Approved. The outcome will show in the timeline.";
  const verb = applied.status === "ok" ? "Approved and applied" : "Approved, but the change failed";
  return `${verb}: ${applied.summary}`;
}
