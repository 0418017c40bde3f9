// The views beside the chat, by hash route: the incidents, one incident, the remediation
// policies and the notification channels. The chat stays as it is; a route shows either it or
// one of these views (in `#ops-view`), and the section links say which is current.

import { h, show } from "./dom.js";
import { renderChannels } from "./channels.js";
import { renderIncident } from "./incident.js";
import { renderIncidents } from "./incidents.js";
import { renderPolicies } from "./policies.js";
import { parseHash } from "./routes.js";
import { problem, viewHeader } from "./widgets.js";

const APP_TITLE = "Hexabase AIOps";
const TITLES = { chat: "Chat", incidents: "Incidents", policies: "Remediation policies", channels: "Notification channels", unknown: "Not found" };
const RENDER = {
  incidents: (root, ctx, route) => (route.id ? renderIncident(root, ctx, route) : renderIncidents(root, ctx, route)),
  policies: renderPolicies,
  channels: renderChannels,
  unknown: (root) => {
    root.append(viewHeader("Not found"), problem("This page does not exist. The sections are listed at the top."));
    return null;
  },
};

export class Views {
  /**
   * `context()` -> `{ org, orgs }` of the signed-in person; `switchOrg(org)` changes the
   * organization everywhere; `onChat()` runs when the chat is shown again.
   */
  constructor({ api, chat, ops, nav, skip, context, switchOrg, reportError, onChat }) {
    Object.assign(this, { api, chat, ops, nav, skip, context, switchOrg, reportError, onChat });
    this.active = false;
    this.current = null;
    this.section = null;
    this.key = null;
    this.cache = null;
    window.addEventListener("hashchange", () => this.route());
    skip.addEventListener("click", (event) => {
      // the hash is the route: focus the target instead of following the link
      event.preventDefault();
      const target = this.section === "chat" ? document.getElementById("composer-input") : this.ops.querySelector("h1");
      target?.focus();
    });
  }

  /** Signed in: show the links and the current route. Returns the section shown. */
  start() {
    this.active = true;
    show(this.nav);
    return this.route({ force: true });
  }

  stop() {
    this.active = false;
    this.key = null;
    this.dispose();
    show(this.nav, false);
    show(this.ops, false);
    show(this.chat, false);
    this.ops.replaceChildren();
  }

  /** The organization changed: render the current view again (the chat does that itself). */
  refresh() {
    if (this.active && this.section !== "chat") this.route({ force: true });
  }

  dispose() {
    this.current?.dispose?.();
    this.current = null;
  }

  route({ force = false } = {}) {
    if (!this.active) return null;
    let route = parseHash(window.location.hash);
    if (route === null) {
      if (this.section && !force) return this.section; // a skip link's target: stay
      route = parseHash("");
    }
    const key = `${route.section}/${route.id ?? ""}?${route.query}`;
    if (!force && key === this.key) return this.section;
    this.key = key;
    this.dispose();
    this.section = route.section;
    this.cache = null;
    for (const link of this.nav.querySelectorAll("a")) {
      if (link.dataset.section === route.section) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    document.title = `${TITLES[route.section]} · ${APP_TITLE}`;
    this.skip.textContent = route.section === "chat" ? "Skip to the message box" : "Skip to the content";
    if (route.section === "chat") {
      show(this.ops, false);
      this.ops.replaceChildren();
      show(this.chat);
      this.onChat();
      return "chat";
    }
    show(this.chat, false);
    show(this.ops);
    const inner = h("div", { class: "ops-inner", dataset: { section: route.section } });
    this.ops.replaceChildren(this.orgBar(), inner);
    const ctx = this.ctx();
    if (!ctx.org) inner.append(viewHeader(TITLES[route.section]), problem("You are not a member of any organization yet: ask an organization owner to invite you."));
    else this.current = RENDER[route.section](inner, ctx, route);
    inner.querySelector("h1")?.focus({ preventScroll: true });
    return route.section;
  }

  ctx() {
    const { org, orgs } = this.context();
    return {
      api: this.api,
      org,
      orgs: orgs.map((o) => o.organization),
      reportError: this.reportError,
      switchOrg: this.switchOrg,
      workspaces: () => this.workspaces(org),
    };
  }

  /** The workspaces this person can see, fetched once per view. */
  workspaces(org) {
    if (!this.cache || this.cache.org !== org) {
      const list = this.api.json(`/api/v1/organizations/${encodeURIComponent(org)}/workspaces`);
      this.cache = { org, list };
      list.catch(() => {
        if (this.cache?.list === list) this.cache = null;
      });
    }
    return this.cache.list;
  }

  orgBar() {
    const { org, orgs } = this.context();
    if (orgs.length < 2) return h("p", { class: "ops-org" }, "Organization ", h("strong", { text: org ?? "none" }));
    const select = h("select", { id: "ops-org-select" }, ...orgs.map((o) => new Option(`${o.organization} (${o.role})`, o.organization)));
    select.value = org ?? "";
    select.addEventListener("change", () => this.switchOrg(select.value));
    return h("div", { class: "ops-org inline-field" }, h("label", { for: select.id, text: "Organization" }), select);
  }
}
