// Remediation policies (`#/policies`): one card per workspace this person can see, with its
// policy (or none), and Create / Edit / Delete through the policy form.

import { describeError } from "./api.js";
import { h } from "./dom.js";
import { ACTIONS, policyForm } from "./policy-form.js";
import { facts, loading, problem, timeOf, viewHeader } from "./widgets.js";

const ACTION_LABELS = Object.fromEntries(ACTIONS);

export function renderPolicies(root, ctx) {
  const list = h("div", { class: "policy-list" }, loading("Loading the policies…"));
  root.append(
    viewHeader("Remediation policies", {
      lead: "What the remediation agent may do in each workspace without asking a person. Anything else becomes an approval request; without a policy, incidents are only announced.",
    }),
    list,
  );
  const load = async () => {
    try {
      const [workspaces, policies] = await Promise.all([
        ctx.workspaces(),
        ctx.api.json(`/api/v1/organizations/${encodeURIComponent(ctx.org)}/remediation-policies`),
      ]);
      const byWorkspace = new Map(policies.map((policy) => [policy.workspace_id, policy]));
      list.replaceChildren(...workspaces.map((ws) => new PolicyCard(ctx, ws, byWorkspace.get(ws.id) ?? null).element));
      if (!workspaces.length) list.append(h("p", { class: "empty-state", text: "You can see no workspace in this organization." }));
    } catch (error) {
      list.replaceChildren(problem(error, load));
    }
  };
  load();
  return { refresh: load };
}

class PolicyCard {
  constructor(ctx, workspace, policy) {
    this.ctx = ctx;
    this.workspace = workspace;
    this.body = h("div", { class: "policy-body" });
    this.status = h("p", { class: "policy-status", role: "status" });
    const titleId = `policy-${workspace.id}`;
    this.element = h(
      "section",
      { class: "card policy-card", "aria-labelledby": titleId, dataset: { workspace: workspace.name } },
      h("h2", { id: titleId, tabindex: "-1", text: workspace.display_name && workspace.display_name !== workspace.name ? `${workspace.name} (${workspace.display_name})` : workspace.name }),
      this.body,
      this.status,
    );
    this.show(policy);
  }

  url() {
    return `/api/v1/organizations/${encodeURIComponent(this.ctx.org)}/workspaces/${encodeURIComponent(this.workspace.name)}/remediation-policy`;
  }

  show(policy, message = "") {
    this.policy = policy;
    this.element.dataset.hasPolicy = String(Boolean(policy));
    this.status.textContent = message;
    this.status.classList.remove("error-text");
    if (!policy) {
      this.body.replaceChildren(
        h("p", { class: "hint", text: "No policy: incidents here are opened and announced, never acted on." }),
        h("div", { class: "form-actions" }, h("button", { type: "button", class: "button-primary", text: "Create a policy", on: { click: () => this.edit() } })),
      );
      return;
    }
    this.body.replaceChildren(
      summary(policy),
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "button", text: "Edit", on: { click: () => this.edit() } }),
        h("button", { type: "button", class: "button-quiet", text: "Delete", on: { click: () => this.remove() } }),
      ),
    );
  }

  edit() {
    const form = policyForm(this.policy, {
      workspace: this.workspace.name,
      onSave: async (body) => {
        const saved = await this.ctx.api.json(this.url(), { method: "PUT", json: body });
        this.show(saved, this.policy ? "Saved." : "Created: remediation follows this policy from the next check.");
        this.element.querySelector("h2").focus();
      },
      onCancel: () => this.show(this.policy),
    });
    this.body.replaceChildren(form);
    this.status.textContent = "";
    form.querySelector("input")?.focus();
  }

  async remove() {
    if (!window.confirm(`Delete the remediation policy of ${this.workspace.name}? Remediation stops there; incidents are still announced.`)) return;
    try {
      await this.ctx.api.fetch(this.url(), { method: "DELETE" });
      this.show(null, "Deleted: nothing is changed here without a person any more.");
    } catch (error) {
      if (error.status === 404) return this.show(null, "This policy was already deleted.");
      this.status.textContent = describeError(error);
      this.status.classList.add("error-text");
    }
  }
}

function summary(policy) {
  const actions = policy.allowed_actions.length ? policy.allowed_actions.map((a) => ACTION_LABELS[a] ?? a).join(", ") : "nothing (every fix is asked for)";
  return facts([
    ["Remediation", policy.enabled ? "on" : "off: incidents are announced, nothing is changed"],
    ["Without a person", actions],
    ["Applications", policy.applications.length ? policy.applications.join(", ") : "all"],
    ["Replicas", `${policy.min_replicas} to ${policy.max_replicas}`],
    ["Highest limits", `CPU ${policy.max_cpu_limit}, memory ${policy.max_memory_limit}`],
    ["Pace", `at most ${policy.max_actions_per_hour} per hour per application, ${policy.cooldown_minutes} min quiet after each`],
    ["Verification", `healthy for ${policy.verify_minutes} min`],
    ["Escalation", `after ${policy.escalate_after_minutes} min unresolved`],
    ["Acts as", policy.service_key_id ? `API key ${policy.service_key_id.slice(0, 8)}… (revoke it to stop remediation)` : "no identity yet"],
    ["Updated", timeOf(policy.updated_at)],
  ]);
}
