// Charts for metric results (get_metrics, detect_anomalies, an application's anomalies): one
// uPlot chart per metric, a line per pod, anomalies as red points, and the detector's anomaly
// score (a third value per point, 0 to 1) as a shaded line on a scale of its own. uPlot is vendored (see /static/vendor/README.md) and loaded
// by a classic script as the global `uPlot`. Each chart has a text caption with the figures a
// screen reader needs; the canvas itself is hidden from assistive technology.

import { h } from "./dom.js";

const MAX_CHARTS = 6;
const HEIGHT = 170;
const PALETTE = ["#2563eb", "#059669", "#d97706", "#7c3aed", "#db2777", "#0891b2"];
const ANOMALY_COLOUR = "#dc2626";
const SCORE_FILL = "rgba(220, 38, 38, 0.12)";

/** True when a tool result carries series worth drawing. */
export function hasSeries(data) {
  return Array.isArray(data?.series) && data.series.some((s) => Array.isArray(s?.points) && s.points.length);
}

/** Append a figure per metric to `container` (which must be in the document, to be measured). */
export function renderCharts(container, data) {
  const anomalies = Array.isArray(data.anomalies) ? data.anomalies : [];
  const groups = groupByMetric(data.series).slice(0, MAX_CHARTS);
  for (const group of groups) {
    const marks = anomalies.filter((a) => a?.metric === group.metric);
    const figure = h("figure", { class: "chart", dataset: { metric: group.metric } });
    container.append(figure);
    const plot = draw(figure, group, marks);
    figure.append(h("figcaption", { text: caption(group, marks, plot !== null) }));
  }
}

function groupByMetric(series) {
  const groups = new Map();
  for (const s of series) {
    if (!Array.isArray(s?.points) || !s.points.length) continue;
    const metric = String(s.metric ?? "value");
    if (!groups.has(metric)) groups.set(metric, { metric, unit: s.unit ? String(s.unit) : "", series: [] });
    groups.get(metric).series.push(s);
  }
  return [...groups.values()];
}

function seconds(iso) {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/** The first series of the group that carries anomaly scores (`[time, value, score]`). */
function scored(group) {
  return group.series.find((s) => s.points.some((p) => typeof p[2] === "number")) ?? null;
}

/** uPlot's aligned data: shared x (seconds), one y array per series, the anomalies, the scores. */
function aligned(group, marks) {
  const xs = new Set();
  const scores = new Map();
  const withScores = scored(group);
  const byTime = group.series.map((s) => {
    const values = new Map();
    for (const [time, value, score] of s.points) {
      const x = seconds(time);
      if (x === null) continue;
      xs.add(x);
      values.set(x, typeof value === "number" ? value : null);
      if (s === withScores && typeof score === "number") scores.set(x, score);
    }
    return values;
  });
  const anomalyAt = new Map();
  for (const mark of marks) {
    const x = seconds(mark.timestamp);
    if (x !== null && typeof mark.observed === "number") {
      xs.add(x);
      anomalyAt.set(x, mark.observed);
    }
  }
  const x = [...xs].sort((a, b) => a - b);
  const columns = [x, ...byTime.map((values) => x.map((t) => values.get(t) ?? null))];
  if (marks.length) columns.push(x.map((t) => anomalyAt.get(t) ?? null));
  if (withScores) columns.push(x.map((t) => scores.get(t) ?? null));
  return columns;
}

function draw(figure, group, marks) {
  const UPlot = window.uPlot;
  if (typeof UPlot !== "function") return null;
  const ink = getComputedStyle(document.body).color;
  const grid = "rgba(128, 128, 128, 0.2)";
  const axis = { stroke: ink, grid: { stroke: grid }, ticks: { stroke: grid } };
  const series = [
    {},
    ...group.series.map((s, i) => ({
      label: s.pod ? String(s.pod) : group.metric,
      stroke: PALETTE[i % PALETTE.length],
      width: 1.5,
      points: { show: false },
    })),
  ];
  if (marks.length) {
    series.push({
      label: "anomaly",
      stroke: ANOMALY_COLOUR,
      paths: () => null,
      points: { show: true, size: 8, stroke: ANOMALY_COLOUR, fill: ANOMALY_COLOUR },
    });
  }
  const axes = [axis, { ...axis, size: 60, values: (_, ticks) => ticks.map(compact) }];
  const scales = { x: { time: true } };
  if (scored(group)) {
    series.push({ label: "anomaly score", scale: "score", stroke: ANOMALY_COLOUR, fill: SCORE_FILL, width: 1, dash: [4, 3], points: { show: false } });
    scales.score = { range: [0, 1] };
    axes.push({ ...axis, scale: "score", side: 1, size: 40, grid: { show: false } });
  }
  const holder = h("div", { class: "chart-plot", "aria-hidden": "true" });
  figure.append(holder);
  const options = {
    width: widthOf(figure),
    height: HEIGHT,
    title: group.unit ? `${group.metric} (${group.unit})` : group.metric,
    scales,
    axes,
    series,
  };
  const plot = new UPlot(options, aligned(group, marks), holder);
  new ResizeObserver(() => plot.setSize({ width: widthOf(figure), height: HEIGHT })).observe(figure);
  return plot;
}

const SI = [
  [1e12, "T"],
  [1e9, "G"],
  [1e6, "M"],
  [1e3, "k"],
];

/** Tick labels that fit: 230M rather than 230,000,000 (SI prefixes, whatever the locale). */
export function compact(value) {
  if (value === null || value === undefined) return "";
  const [scale, prefix] = SI.find(([limit]) => Math.abs(value) >= limit) ?? [1, ""];
  return `${Number((value / scale).toPrecision(4))}${prefix}`;
}

function widthOf(element) {
  return Math.max(Math.floor(element.clientWidth || 0) - 4, 240);
}

function caption(group, marks, drawn) {
  const unit = group.unit ? ` ${group.unit}` : "";
  const parts = group.series.map((s) => {
    const values = s.points.map((p) => p[1]).filter((v) => typeof v === "number");
    if (!values.length) return `${s.pod ?? group.metric}: no samples`;
    const fmt = (v) => Number(v.toPrecision(4));
    const name = s.pod ?? group.metric;
    return `${name}: last ${fmt(values.at(-1))}${unit}, min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))}`;
  });
  const anomalies = marks.length ? `; ${marks.length} anomal${marks.length === 1 ? "y" : "ies"} marked` : "";
  const scores = (scored(group)?.points ?? []).map((p) => p[2]).filter((v) => typeof v === "number");
  const peak = scores.length ? `; highest anomaly score ${Math.max(...scores).toFixed(2)}` : "";
  const note = drawn ? "" : " (chart unavailable)";
  return `${group.metric}${group.unit ? ` (${group.unit})` : ""} over time: ${parts.join("; ")}${anomalies}${peak}${note}`;
}
