// The form of a notification channel: name, kind and that kind's settings, workspace, events.
// Secrets (Slack webhook URL, bot token, webhook secret, SMTP password) are write-only: never
// shown, so they are typed again on every save. The service validates; its 422 is shown next
// to each field (a kind's fields are named `<kind>.<field>`, as the service's paths end).

import { h } from "./dom.js";
import { FormFields, listOf } from "./forms.js";

export const KINDS = [
  ["webhook", "Webhook (signed JSON POST)"],
  ["slack_webhook", "Slack incoming webhook"],
  ["slack_bot", "Slack bot"],
  ["email", "E-mail (SMTP)"],
];

export const EVENTS = [
  ["incident_opened", "Incident opened"],
  ["incident_updated", "Incident updated"],
  ["action_taken", "Action taken"],
  ["approval_requested", "Approval requested"],
  ["incident_resolved", "Incident resolved"],
  ["incident_escalated", "Incident escalated"],
  ["investigation_finding", "Investigation finding"],
];

const SECRET_AGAIN = "Never shown: enter it again to save.";

/** `onSave(body)` returns a promise; it throws the service's error. */
export function channelForm(channel, { workspaces, onSave, onCancel }) {
  const fields = new FormFields();
  const settings = channel?.settings ?? {};
  const text = (value = "", extra = {}) => h("input", { type: "text", value: value ?? "", autocomplete: "off", spellcheck: "false", ...extra });
  const secret = () => h("input", { type: "password", autocomplete: "new-password", spellcheck: "false" });
  const shown = (value) => (typeof value === "string" && !value.endsWith("…") ? value : ""); // not a masked view
  const secretHint = (hint) => (channel ? `${hint} ${SECRET_AGAIN}` : hint);
  const kind = h("select", {}, ...KINDS.map(([value, label]) => new Option(label, value)));
  kind.value = channel?.kind ?? "webhook";
  const workspace = h("select", {}, new Option("Every workspace", ""), ...workspaces.map((ws) => new Option(ws.name, ws.name)));
  workspace.value = workspaces.find((ws) => ws.id === channel?.workspace_id)?.name ?? "";
  const email = channel?.kind === "email" ? settings : {};
  const sections = {
    webhook: [
      fields.field("webhook.url", "URL", text(channel?.kind === "webhook" ? shown(settings.url) : "", { type: "url" }), { hint: "Receives a JSON POST per event." }),
      fields.field("webhook.secret", "Signing secret", secret(), { hint: secretHint("At least 16 characters; requests are signed with HMAC-SHA256 under it.") }),
    ],
    slack_webhook: [fields.field("slack_webhook.url", "Webhook URL", secret(), { hint: secretHint("The URL is the credential.") })],
    slack_bot: [
      fields.field("slack_bot.token", "Bot token", secret(), { hint: secretHint("xoxb-…") }),
      fields.field("slack_bot.channel", "Slack channel", text(channel?.kind === "slack_bot" ? settings.channel : ""), { hint: "#name or a channel id" }),
      fields.field("slack_bot.api_url", "API URL", text(shown(channel?.kind === "slack_bot" ? settings.api_url : "") || "https://slack.com/api", { type: "url" })),
    ],
    email: [
      fields.field("email.to", "To", text((email.to ?? []).join(", "), { autocomplete: "email" }), { hint: "Comma-separated addresses." }),
      fields.field("email.from_address", "From", text(email.from_address ?? "", { type: "email" })),
      fields.field("email.smtp_host", "SMTP server", text(email.smtp_host ?? "")),
      fields.field("email.smtp_port", "SMTP port", h("input", { type: "number", min: 1, max: 65535, value: String(email.smtp_port ?? 587) })),
      fields.field("email.username", "Username", text(email.username ?? ""), { hint: "Empty: no login." }),
      fields.field("email.password", "Password", secret(), { hint: secretHint("Needs a username.") }),
      fields.field("email.starttls", "STARTTLS (port 587)", h("input", { type: "checkbox", checked: email.starttls ?? true })),
      fields.field("email.use_tls", "Implicit TLS (port 465)", h("input", { type: "checkbox", checked: email.use_tls ?? false })),
    ],
  };
  const groups = Object.fromEntries(
    KINDS.map(([value, label]) => [value, h("fieldset", { class: "kind-settings", dataset: { kind: value } }, h("legend", { text: `${label}: settings` }), ...sections[value])]),
  );
  const showKind = () => {
    for (const [value, group] of Object.entries(groups)) group.hidden = value !== kind.value;
  };
  kind.addEventListener("change", showKind);
  showKind();
  const save = h("button", { type: "submit", class: "button-primary", text: channel ? "Save the channel" : "Add the channel" });
  const form = h(
    "form",
    { class: "card form channel-form", novalidate: true, "aria-label": channel ? `Edit the channel ${channel.name}` : "New channel" },
    h("h2", { text: channel ? `Edit “${channel.name}”` : "New channel" }),
    fields.field("name", "Name", text(channel?.name ?? "", { maxlength: 100, required: true })),
    fields.field("kind", "Kind", kind),
    ...Object.values(groups),
    fields.field("workspace", "Workspace", workspace, { hint: "Only this workspace's incidents, or every workspace's." }),
    fields.choices("events", "Events", EVENTS, channel?.events ?? [], { hint: "None checked: every event." }),
    fields.field("enabled", "Enabled", h("input", { type: "checkbox", checked: channel?.enabled ?? true })),
    fields.summary,
    h("div", { class: "form-actions" }, save, h("button", { type: "button", class: "button-quiet", text: "Cancel", on: { click: onCancel } })),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!fields.value("name")) return fields.show(new Map([["name", ["Give the channel a name."]]]));
    fields.clear();
    save.disabled = true;
    try {
      await onSave(body(fields, kind.value));
    } catch (error) {
      fields.showError(error);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function body(fields, kind) {
  const value = (name) => fields.value(`${kind}.${name}`);
  const settings = { kind };
  const put = (name, v) => {
    if (v !== "" && v !== null && v !== undefined) settings[name] = v;
  };
  if (kind === "webhook") ["url", "secret"].forEach((name) => put(name, value(name)));
  if (kind === "slack_webhook") put("url", value("url"));
  if (kind === "slack_bot") ["token", "channel", "api_url"].forEach((name) => put(name, value(name)));
  if (kind === "email") {
    put("to", listOf(value("to")));
    ["from_address", "smtp_host", "username", "password"].forEach((name) => put(name, value(name)));
    put("smtp_port", value("smtp_port") === "" ? "" : Number(value("smtp_port")));
    settings.starttls = fields.checked("email.starttls");
    settings.use_tls = fields.checked("email.use_tls");
  }
  return {
    name: fields.value("name"),
    settings,
    workspace: fields.value("workspace") || null,
    events: fields.checked("events"),
    enabled: fields.checked("enabled"),
  };
}
