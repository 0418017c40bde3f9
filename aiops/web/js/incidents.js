// The incidents list (`#/incidents?status=&workspace=`): filters kept in the address (so Back
// and a reload keep them), newest first, older pages with `before`.

import { h } from "./dom.js";
import { hrefFor, navigate } from "./routes.js";
import { STATUS_LABELS, loading, placeOf, problem, severityBadge, statusBadge, timeOf, viewHeader } from "./widgets.js";

const PAGE = 25;
const SHOW = [
  ["active", "Active (not resolved)"],
  ["all", "All"],
  ...Object.entries(STATUS_LABELS).map(([value, label]) => [value, `Only ${label}`]),
];

export function renderIncidents(root, ctx, route) {
  const status = SHOW.some(([value]) => value === route.query.get("status")) ? route.query.get("status") : "active";
  const workspace = route.query.get("workspace") ?? "";
  const list = h("ul", { class: "incident-list", "aria-label": "Incidents" });
  const more = h("button", { type: "button", class: "load-more", text: "Show older incidents", hidden: true });
  const state = h("div", { class: "list-state" }, loading("Loading the incidents…"));
  const refresh = h("button", { type: "button", class: "button-quiet", text: "Refresh", on: { click: () => load() } });
  const filters = filterForm(ctx, { status, workspace });
  root.append(
    viewHeader("Incidents", { lead: "What broke, what the remediation agent did about it, and how it ended.", actions: [refresh] }),
    filters.element,
    state,
    list,
    more,
  );

  let oldest = null;
  const query = (before) => {
    const params = new URLSearchParams({ limit: String(PAGE) });
    if (status !== "all") params.set("status", status);
    if (workspace) params.set("workspace", workspace);
    if (before) params.set("before", before);
    return `/api/v1/organizations/${encodeURIComponent(ctx.org)}/incidents?${params}`;
  };
  const page = async (before) => {
    more.disabled = true;
    try {
      const found = await ctx.api.json(query(before));
      list.append(...found.map(item));
      oldest = found.at(-1)?.opened_at ?? oldest;
      more.hidden = found.length < PAGE;
      state.replaceChildren();
      if (!list.childElementCount) state.append(h("p", { class: "empty-state", text: emptyText(status, workspace) }));
    } catch (error) {
      state.replaceChildren(problem(error, () => (before ? page(before) : load())));
    } finally {
      more.disabled = false;
    }
  };
  const load = () => {
    list.replaceChildren();
    state.replaceChildren(loading("Loading the incidents…"));
    oldest = null;
    return page(null);
  };
  more.addEventListener("click", () => page(oldest));
  load();
  filters.fill();
  return { refresh: load };
}

function filterForm(ctx, current) {
  const show = h("select", { id: "incident-status" }, ...SHOW.map(([value, label]) => new Option(label, value)));
  show.value = current.status;
  const workspace = h("select", { id: "incident-workspace" }, new Option("All workspaces", ""));
  workspace.value = "";
  const apply = () => {
    const query = {};
    if (show.value !== "active") query.status = show.value;
    if (workspace.value) query.workspace = workspace.value;
    navigate(hrefFor("incidents", { query }));
  };
  show.addEventListener("change", apply);
  workspace.addEventListener("change", apply);
  const element = h(
    "form",
    { class: "filters", "aria-label": "Filter the incidents", on: { submit: (event) => event.preventDefault() } },
    h("div", { class: "inline-field" }, h("label", { for: show.id, text: "Show" }), show),
    h("div", { class: "inline-field" }, h("label", { for: workspace.id, text: "Workspace" }), workspace),
  );
  const fill = async () => {
    try {
      const workspaces = await ctx.workspaces();
      workspace.append(...workspaces.map((ws) => new Option(ws.name, ws.name)));
    } catch {
      // the list says what is wrong; the filter stays at "All workspaces"
    }
    if (current.workspace && ![...workspace.options].some((o) => o.value === current.workspace)) {
      workspace.append(new Option(current.workspace, current.workspace));
    }
    workspace.value = current.workspace;
  };
  return { element, fill };
}

function item(incident) {
  const signals = incident.signals.length
    ? h("ul", { class: "signals", "aria-label": "Signals" }, ...incident.signals.map((signal) => h("li", { class: "signal", text: signal })))
    : null;
  return h(
    "li",
    { class: "incident-item", dataset: { incidentId: incident.id, status: incident.status } },
    h(
      "div",
      { class: "incident-line" },
      h("a", { class: "incident-link", href: hrefFor("incidents", { id: incident.id }), text: incident.title }),
      h("span", { class: "incident-badges" }, severityBadge(incident.severity), statusBadge(incident.status)),
    ),
    h("p", { class: "incident-meta" }, placeOf(incident) || "—", " · opened ", timeOf(incident.opened_at), incident.actions ? ` · ${incident.actions} action${incident.actions === 1 ? "" : "s"}` : ""),
    signals,
  );
}

function emptyText(status, workspace) {
  const where = workspace ? ` in ${workspace}` : "";
  if (status === "active") return `No active incidents${where}: everything monitored is healthy, or resolved.`;
  if (status === "all") return `No incidents${where} yet.`;
  return `No incidents${where} with the status “${STATUS_LABELS[status]}”.`;
}
