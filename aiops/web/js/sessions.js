// The sidebar's list of conversations.

import { formatTime, h } from "./dom.js";

export class SessionList {
  /** `onSelect(session)` when a conversation is picked. */
  constructor(list, empty, { onSelect }) {
    this.list = list;
    this.empty = empty;
    this.onSelect = onSelect;
    this.sessions = [];
    this.currentId = null;
  }

  render(sessions, currentId) {
    this.sessions = sessions;
    this.currentId = currentId;
    this.empty.hidden = sessions.length > 0;
    this.list.replaceChildren(...sessions.map((session) => this.item(session)));
  }

  item(session) {
    const meta = [session.workspace ?? "no workspace", formatTime(session.updated_at)].join(" · ");
    const button = h(
      "button",
      {
        type: "button",
        class: "session-button",
        "aria-current": session.id === this.currentId ? "page" : false,
        dataset: { sessionId: session.id },
        on: { click: () => this.onSelect(session) },
      },
      h("span", { class: "session-name", text: session.title }),
      h("span", { class: "session-meta-line", text: meta }),
      session.pending_approval ? h("span", { class: "badge status-approval_required", text: "awaiting approval" }) : null,
    );
    return h("li", {}, button);
  }

  find(id) {
    return this.sessions.find((session) => session.id === id) ?? null;
  }
}
