// Notification channels (`#/channels`): where incidents are announced. A list with the masked
// settings and the last delivery; add, edit, delete, and "Send test" with its delivery result.

import { describeError } from "./api.js";
import { h } from "./dom.js";
import { EVENTS, KINDS, channelForm } from "./channel-form.js";
import { facts, loading, problem, timeOf, viewHeader } from "./widgets.js";

const KIND_LABELS = Object.fromEntries(KINDS);
const EVENT_LABELS = Object.fromEntries(EVENTS);
const SETTING_LABELS = {
  url: "URL",
  secret: "Signing secret",
  token: "Bot token",
  channel: "Slack channel",
  api_url: "API URL",
  to: "To",
  from_address: "From",
  smtp_host: "SMTP server",
  smtp_port: "SMTP port",
  username: "Username",
  password: "Password",
  starttls: "STARTTLS",
  use_tls: "Implicit TLS",
};

export function renderChannels(root, ctx) {
  const base = `/api/v1/organizations/${encodeURIComponent(ctx.org)}/notification-channels`;
  const editor = h("div", { class: "channel-editor" });
  const list = h("div", { class: "channel-list" }, loading("Loading the channels…"));
  const add = h("button", { type: "button", class: "button-primary", text: "New channel" });
  root.append(viewHeader("Notification channels", { lead: "Where incidents, actions and approval requests are announced. Secrets are never shown once saved.", actions: [add] }), editor, list);
  let workspaces = [];

  const open = (channel) => {
    const form = channelForm(channel, {
      workspaces,
      onSave: async (body) => {
        const url = channel ? `${base}/${encodeURIComponent(channel.id)}` : base;
        await ctx.api.json(url, { method: channel ? "PUT" : "POST", json: body });
        editor.replaceChildren();
        add.disabled = false;
        await load();
      },
      onCancel: () => {
        editor.replaceChildren();
        add.disabled = false;
        add.focus();
      },
    });
    editor.replaceChildren(form);
    add.disabled = true;
    form.querySelector("input")?.focus();
  };
  const load = async () => {
    try {
      const [found, visible] = await Promise.all([ctx.api.json(base), ctx.workspaces().catch(() => [])]);
      workspaces = visible;
      const names = new Map(visible.map((ws) => [ws.id, ws.name]));
      list.replaceChildren(...found.map((channel) => card(ctx, base, channel, names, { onEdit: open, onDeleted: load })));
      if (!found.length) list.append(h("p", { class: "empty-state", text: "No channels yet: incidents are only seen here." }));
    } catch (error) {
      list.replaceChildren(problem(error, load));
    }
  };
  add.addEventListener("click", () => open(null));
  load();
  return { refresh: load };
}

function card(ctx, base, channel, names, { onEdit, onDeleted }) {
  const url = `${base}/${encodeURIComponent(channel.id)}`;
  const result = h("p", { class: "channel-result", role: "status" });
  const titleId = `channel-${channel.id}`;
  const test = h("button", { type: "button", text: "Send test" });
  const remove = h("button", { type: "button", class: "button-quiet", text: "Delete" });
  const delivery = h("span", { class: "last-delivery" }, lastDelivery(channel));
  test.addEventListener("click", async () => {
    test.disabled = true;
    result.className = "channel-result";
    result.textContent = "Sending a test notification…";
    try {
      const sent = await ctx.api.json(`${url}/test`, { method: "POST" });
      result.textContent = deliveryText(sent);
      result.classList.add(sent.ok ? "ok-text" : "error-text");
      const now = await ctx.api.json(url).catch(() => null);
      if (now) delivery.replaceChildren(lastDelivery(now));
    } catch (error) {
      result.textContent = describeError(error);
      result.classList.add("error-text");
    } finally {
      test.disabled = false;
    }
  });
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Delete the channel “${channel.name}”? Nothing more is sent there.`)) return;
    try {
      await ctx.api.fetch(url, { method: "DELETE" });
      await onDeleted();
    } catch (error) {
      result.textContent = describeError(error);
      result.classList.add("error-text");
    }
  });
  return h(
    "section",
    { class: "card channel-card", "aria-labelledby": titleId, dataset: { channelId: channel.id, kind: channel.kind } },
    h("h2", { id: titleId }, channel.name, " ", h("span", { class: "badge", text: KIND_LABELS[channel.kind] ?? channel.kind }), channel.enabled ? null : h("span", { class: "badge badge-off", text: "disabled" })),
    facts([
      ["Workspace", channel.workspace_id ? (names.get(channel.workspace_id) ?? channel.workspace_id) : "every workspace"],
      ["Events", channel.events.length ? channel.events.map((e) => EVENT_LABELS[e] ?? e).join(", ") : "every event"],
      ...settingPairs(channel.settings),
      ["Last delivery", delivery],
    ]),
    h("div", { class: "form-actions" }, test, h("button", { type: "button", text: "Edit", on: { click: () => onEdit(channel) } }), remove),
    result,
  );
}

function settingPairs(settings) {
  if (!settings) return [["Settings", "cannot be read: save the channel again"]];
  return Object.entries(settings)
    .filter(([key, value]) => key !== "kind" && value !== null && value !== undefined)
    .map(([key, value]) => [SETTING_LABELS[key] ?? key, Array.isArray(value) ? value.join(", ") : typeof value === "boolean" ? (value ? "yes" : "no") : String(value)]);
}

function lastDelivery(channel) {
  if (!channel.last_delivery_at) return "none yet";
  const outcome = channel.last_delivery_error ? `failed: ${channel.last_delivery_error}` : "delivered";
  return h("span", {}, timeOf(channel.last_delivery_at), ` (${outcome})`);
}

function deliveryText(delivery) {
  const attempts = `${delivery.attempts} attempt${delivery.attempts === 1 ? "" : "s"}`;
  const status = delivery.status ? `HTTP ${delivery.status}, ` : "";
  return delivery.ok
    ? `Delivered to ${delivery.target} (${status}${attempts}).`
    : `Not delivered to ${delivery.target}: ${delivery.error ?? "failed"} (${status}${attempts}).`;
}
