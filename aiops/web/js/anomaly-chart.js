// An application's metrics with the anomaly detector's score per point and its detections
// marked (`GET .../applications/{app}/anomalies?minutes=`), drawn with charts.js, and the
// detections listed as text under the charts.

import { ApiError, describeError } from "./api.js";
import { formatTime, h } from "./dom.js";
import { hasSeries, renderCharts } from "./charts.js";

const RANGES = [
  [60, "Last hour"],
  [180, "Last 3 hours"],
  [720, "Last 12 hours"],
];
let sequence = 0;

/** The section for `incident` (needs its workspace, project and application). */
export function anomalySection(api, org, incident) {
  const id = `anomalies-${++sequence}`;
  const range = h("select", { id: `${id}-range` }, ...RANGES.map(([minutes, label]) => new Option(label, String(minutes))));
  range.value = "180";
  const status = h("p", { class: "hint", role: "status" });
  const charts = h("div", { class: "charts anomaly-charts" });
  const detections = h("div", { class: "detections" });
  const section = h(
    "section",
    { class: "card anomaly-section", "aria-labelledby": `${id}-title` },
    h("h2", { id: `${id}-title`, text: "Metrics and anomalies" }),
    h("div", { class: "inline-field" }, h("label", { for: range.id, text: "Period" }), range),
    status,
    charts,
    detections,
  );
  const place = [incident.workspace, incident.project, incident.application];
  if (!place.every(Boolean)) {
    status.textContent = "This incident is not about one application: there is no chart to show.";
    range.disabled = true;
    return { element: section, load: () => undefined };
  }
  let asked = 0;
  const load = async () => {
    const mine = ++asked; // a later period's answer wins, whichever arrives first
    status.textContent = "Loading the metrics…";
    charts.replaceChildren();
    detections.replaceChildren();
    const [workspace, project, application] = place.map(encodeURIComponent);
    const url = `/api/v1/organizations/${encodeURIComponent(org)}/workspaces/${workspace}/projects/${project}/applications/${application}/anomalies?minutes=${range.value}`;
    try {
      const data = await api.json(url);
      if (mine !== asked) return;
      show(data, { status, charts, detections, application: incident.application, minutes: Number(range.value) });
    } catch (error) {
      if (mine !== asked) return;
      status.textContent = unavailable(error, incident.application);
      section.dataset.state = "unavailable";
    }
  };
  range.addEventListener("change", load);
  return { element: section, load };
}

function show(data, { status, charts, detections, application, minutes }) {
  const series = Array.isArray(data?.series) ? data.series : [];
  const found = Array.isArray(data?.detections) ? data.detections : [];
  const period = RANGES.find(([value]) => value === minutes)?.[1].toLowerCase() ?? `the last ${minutes} minutes`;
  const section = charts.closest("section");
  if (!hasSeries({ series })) {
    status.textContent = `No metrics recorded for ${application} in ${period}.`;
    section.dataset.state = "empty";
    return;
  }
  const scored = series.some((s) => s.points?.some((p) => typeof p[2] === "number"));
  const count = found.length ? `${found.length} detection${found.length === 1 ? "" : "s"}` : "No anomaly detected";
  status.textContent = `${count} in ${period}${scored ? "; the shaded line is the anomaly score (0 to 1)" : ""}.`;
  section.dataset.state = "drawn";
  renderCharts(charts, { series, anomalies: found });
  if (found.length) detections.append(detectionList(found));
}

function detectionList(found) {
  return h(
    "ul",
    { class: "detection-list", "aria-label": "Detections" },
    ...found.map((d) => {
      const expected = Array.isArray(d.expected) && d.expected.length === 2 ? `, expected ${figure(d.expected[0])} to ${figure(d.expected[1])}` : "";
      const score = typeof d.score === "number" ? ` (score ${d.score.toFixed(2)})` : "";
      const since = d.since ? `; since ${formatTime(d.since)}` : "";
      return h(
        "li",
        {},
        h("strong", { text: `${d.metric} at ${formatTime(d.timestamp)}` }),
        `: observed ${figure(d.observed)}${expected}${score}${since}`,
        d.reason ? h("span", { class: "detection-reason", text: ` — ${d.reason}` }) : null,
      );
    }),
  );
}

function figure(value) {
  return typeof value === "number" ? String(Number(value.toPrecision(4))) : "?";
}

/** What to say when the chart cannot be had (the endpoint may not exist on this service yet). */
function unavailable(error, application) {
  if (error instanceof ApiError) {
    if (error.status === 501 || error.status === 405 || (error.status === 404 && error.message === "no such route")) {
      return "The anomaly chart is not available on this service yet.";
    }
    if (error.status === 404) return `No metrics for ${application}: ${error.message}.`;
  }
  return `The metrics could not be loaded: ${describeError(error)}`;
}
