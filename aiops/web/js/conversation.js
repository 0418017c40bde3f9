// The conversation pane: people's messages, and the assistant's turns as they stream (text,
// tool cards, approval cards, errors). Also draws a saved conversation from its history.

import { ApprovalCard, ToolCard } from "./cards.js";
import { h } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const FINAL_NOTES = {
  denied: "The change was denied: nothing was changed.",
  budget_exceeded: "The assistant stopped: this turn's budget ran out.",
};

export class Conversation {
  /** `onDecide(card, approve)`: decide an approval (resolves once the service accepted it). */
  constructor(root, { onDecide, onSession }) {
    this.root = root;
    this.onDecide = onDecide;
    this.onSession = onSession;
    this.reset();
  }

  reset() {
    this.cards = new Map();
    this.approvals = new Set();
    this.root.replaceChildren(
      h(
        "div",
        { class: "conversation-empty" },
        h("p", { text: "Ask about applications, metrics, logs or anomalies, or ask for a change." }),
        h("p", { class: "hint", text: "Changes wait for an approval before they run." }),
      ),
    );
  }

  /** Run `change`, then keep the newest content in view if the reader was following it. */
  follow(change) {
    const scroller = this.scroller();
    const following = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 160;
    const result = change();
    if (following) {
      const now = this.scroller();
      now.scrollTop = now.scrollHeight;
    }
    return result;
  }

  /** The pane scrolls on wide screens; on narrow ones the page does. */
  scroller() {
    const { root } = this;
    return root.scrollHeight > root.clientHeight + 1 ? root : document.scrollingElement;
  }

  dropEmptyHint() {
    this.root.querySelector(".conversation-empty")?.remove();
  }

  addUser(text) {
    this.dropEmptyHint();
    const element = h(
      "div",
      { class: "message message-user" },
      h("p", { class: "message-author", text: "You" }),
      h("div", { class: "message-body", text }),
    );
    this.root.append(element);
    const scroller = this.scroller();
    scroller.scrollTop = scroller.scrollHeight; // what one sends is always followed
    return element;
  }

  /** A new assistant turn at the end of the conversation. */
  startTurn() {
    this.dropEmptyHint();
    const turn = new TurnView(this);
    this.root.append(turn.element);
    return turn;
  }

  card(callId) {
    return this.cards.get(callId);
  }

  addApproval(turn, approval) {
    const card = new ApprovalCard(approval, { onDecide: (approve) => this.onDecide(card, approve) });
    this.approvals.add(card);
    turn.add(card.element);
    return card;
  }

  /** A new message was taken: the service abandons the approvals still open. */
  supersedeApprovals() {
    for (const card of this.approvals) {
      if (!card.decided) card.finish("Not decided: a new message was sent instead, so nothing was changed.", "superseded");
    }
  }

  /** Refresh the expiry of every approval still open. */
  tick() {
    for (const card of this.approvals) card.tick();
  }

  /** Draw a saved conversation (`GET /chat/sessions/{id}`). */
  renderHistory(messages) {
    this.reset();
    let turn = null;
    for (const message of messages) {
      if (message.role === "user") {
        turn?.finish();
        turn = null;
        this.addUser(message.content);
        continue;
      }
      turn ??= this.startTurn();
      if (message.role === "assistant") turn.historyAssistant(message);
      else if (message.role === "tool") turn.historyTool(message);
    }
    turn?.finish();
    return turn;
  }
}

class TurnView {
  constructor(conversation) {
    this.conversation = conversation;
    this.blocks = h("div", { class: "message-body" });
    this.element = h(
      "div",
      { class: "message message-assistant", "aria-busy": "true" },
      h("p", { class: "message-author", text: "Assistant" }),
      this.blocks,
    );
    this.textBlock = null;
    this.pendingRender = false;
  }

  add(node) {
    this.conversation.follow(() => this.blocks.append(node));
    this.textBlock = null;
  }

  handle(event) {
    switch (event.type) {
      case "session":
        this.conversation.onSession?.(event);
        break;
      case "delta":
        this.appendText(event.text);
        break;
      case "tool_call":
        this.toolCall(event);
        break;
      case "tool_result":
        this.toolResult(event);
        break;
      case "approval_required":
        this.approvalRequired(event);
        break;
      case "final":
        this.final(event);
        break;
      case "error":
        this.error(`The answer failed: ${event.message}`, event.code);
        break;
      default:
        break; // a newer service's event: nothing to show
    }
  }

  toolCall(event) {
    const card = new ToolCard(event);
    this.conversation.cards.set(event.call_id, card);
    this.add(card.element);
  }

  toolResult(event) {
    let card = this.conversation.card(event.call_id);
    if (!card) {
      // the call was shown in an earlier page load: show the result on a card of its own
      card = new ToolCard({ call_id: event.call_id, tool: event.tool, arguments: {} });
      this.conversation.cards.set(event.call_id, card);
      this.add(card.element);
    }
    this.conversation.follow(() => card.setResult(event));
  }

  approvalRequired(event) {
    this.conversation.card(event.call_id)?.setStatus("approval_required");
    const card = this.conversation.addApproval(this, event);
    card.title.focus({ preventScroll: true });
    card.element.scrollIntoView({ block: "nearest" }); // a decision is needed: always shown
  }

  /** Streamed text goes into the text block after the last card (re-rendered once a frame). */
  appendText(text) {
    if (!this.textBlock) {
      this.textBlock = h("div", { class: "answer-text" });
      this.textBlock.raw = "";
      this.blocks.append(this.textBlock);
    }
    this.textBlock.raw += text;
    if (this.pendingRender) return;
    this.pendingRender = true;
    requestAnimationFrame(() => {
      this.pendingRender = false;
      this.renderText();
    });
  }

  renderText() {
    const block = this.textBlock;
    if (block) this.conversation.follow(() => block.replaceChildren(renderMarkdown(block.raw)));
  }

  /** The final text is the last step's whole answer: it replaces what streamed of that step. */
  final(event) {
    if (event.text) {
      if (!this.textBlock) this.appendText("");
      this.textBlock.raw = event.text;
      this.renderText();
      this.textBlock.classList.add("answer-final");
    }
    const note = FINAL_NOTES[event.status];
    if (note) this.blocks.append(h("p", { class: "turn-note", text: note }));
    if (event.fallback) this.blocks.append(h("p", { class: "turn-note", text: `The configured model failed (${event.fallback}); the offline planner answered.` }));
    this.finish();
  }

  /** An error inside the conversation; `action` ({label, run}) adds a button, e.g. Retry. */
  error(message, code, action) {
    const parts = [h("span", { text: message })];
    if (code) parts.push(" ", h("code", { class: "error-code", text: code }));
    const element = h("div", { class: "turn-error", role: "alert" }, h("p", {}, parts));
    if (action) {
      const button = h("button", { type: "button", text: action.label });
      button.addEventListener("click", () => {
        element.remove();
        action.run();
      });
      element.append(button);
    }
    this.add(element);
    this.finish();
    return element;
  }

  finish() {
    if (this.pendingRender) this.renderText();
    this.element.setAttribute("aria-busy", "false");
    if (!this.blocks.childElementCount) this.element.remove();
  }

  restart() {
    if (!this.element.isConnected) this.conversation.root.append(this.element);
    this.element.setAttribute("aria-busy", "true");
  }

  // --------------------------------------------------------------- from saved history

  historyAssistant(message) {
    if (message.content) {
      this.appendText(message.content);
      this.renderText();
      this.textBlock = null;
    }
    for (const call of message.tool_calls ?? []) {
      this.toolCall({ call_id: call.id, tool: call.name, arguments: call.args ?? {} });
    }
  }

  historyTool(message) {
    const card = this.conversation.card(message.tool_call_id);
    if (card) card.setResult(parseToolOutput(message.content));
  }
}

/** The status and text of a tool's output as the model saw it (`<tool-output …>…`). */
export function parseToolOutput(content) {
  const match = /^<tool-output\b[^>]*?\bstatus="([^"]*)"[^>]*>\n?([\s\S]*?)\n?<\/tool-output>\s*$/.exec(content ?? "");
  if (!match) return { status: "ok", summary: content ?? "" };
  const summary = match[2].replace(/^status: \S+\n?/, "");
  return { status: match[1], summary };
}
