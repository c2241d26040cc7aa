// The review workspace's charts (static/review.js): inline SVG built from the API's JSON, no chart
// library, no inline style (strict CSP). Each candidate is placed only among this exam's candidates;
// severity is always colour and text; every chart has a title, a text summary and a list twin.

// ---- DOM, SVG and time helpers ---------------------------------------------------------------------------
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else if (k in e) e[k] = v;
    else e.setAttribute(k, v);
  }
  e.append(...children.filter((c) => c !== null && c !== undefined));
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

// Times are shown in the exam's time zone (useTimeZone), as the page says.
let tz = "UTC", clock, shortClock;
export function useTimeZone(name) {
  tz = name;
  clock = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  shortClock = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
}
useTimeZone("UTC");
export const fmtTime = (iso) => (iso ? clock.format(new Date(iso)) : "—");
export const timeEl = (iso) => el("time", { dateTime: iso, text: fmtTime(iso) });

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? "−" : "";
  if (s < 60) return `${sign}${s} s`;
  const m = Math.floor(s / 60), rest = s % 60;
  if (m < 60) return `${sign}${m} min${rest ? ` ${rest} s` : ""}`;
  return `${sign}${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Minutes once past two of them: a chart label needs no seconds. */
export const fmtCoarse = (seconds) => (Math.abs(seconds) >= 120 ? fmtDuration(Math.round(seconds / 60) * 60) : fmtDuration(seconds));

export const words = (s) => String(s ?? "").replaceAll("_", " ").replaceAll(".", ": ");
export const SEVERITIES = ["red", "yellow", "green"];
export const chip = (severity, text = severity) => el("span", { class: `sev sev-${severity}`, text });

// ---- the exam overview -----------------------------------------------------------------------------
/** A strip plot of one measure across the exam's candidates: every dot is a candidate, the band the
 * middle half, the line the median. The selected candidate is larger and named. */
export function stripPlot({ id, title, unit, values, dist, selected }) {
  const W = 380, H = 112, L = 12, R = 12, top = 22, mid = 46, axis = 74;
  const nums = values.map((v) => v.value);
  const fig = el("figure", { class: "chart" });
  if (!nums.length) {
    fig.append(el("figcaption", { text: `${title}: no values yet.` }));
    return fig;
  }
  let lo = Math.min(...nums), hi = Math.max(...nums);
  if (hi - lo < 1) { lo -= 30; hi += 30; }
  const pad = (hi - lo) * 0.05;
  lo -= pad; hi += pad;
  const x = (v) => L + ((v - lo) / (hi - lo)) * (W - L - R);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "strip", role: "img", "aria-labelledby": `${id}-t ${id}-d` });
  chart.append(svg("title", { id: `${id}-t` }, title));
  const summary = `${dist.n} candidates; median ${unit(dist.median)}, middle half ${unit(dist.q1)} to ${unit(dist.q3)}, range ${unit(dist.min)} to ${unit(dist.max)}.`;
  chart.append(svg("desc", { id: `${id}-d` }, summary));
  chart.append(svg("rect", { x: x(dist.q1), y: top, width: Math.max(2, x(dist.q3) - x(dist.q1)), height: axis - top, class: "iqr" }));
  chart.append(svg("line", { x1: x(dist.median), x2: x(dist.median), y1: top - 4, y2: axis, class: "median" }));
  const medAnchor = x(dist.median) < W * 0.2 ? "start" : x(dist.median) > W * 0.8 ? "end" : "middle";
  chart.append(svg("text", { x: x(dist.median), y: top - 8, class: "median-label", "text-anchor": medAnchor }, `median ${unit(dist.median)}`));
  values.forEach((v, i) => {
    const isSel = v.session_id === selected;
    const dot = svg("circle", { cx: x(v.value), cy: mid + ((i % 5) - 2) * 6, r: isSel ? 7 : 4, class: isSel ? "dot selected" : "dot" });
    dot.append(svg("title", {}, `${v.candidate}: ${unit(v.value)}`));
    chart.append(dot);
    const anchor = x(v.value) < W * 0.25 ? "start" : x(v.value) > W * 0.75 ? "end" : "middle";
    if (isSel) chart.append(svg("text", { x: x(v.value), y: H - 4, "text-anchor": anchor, class: "sel-label" }, `▲ ${v.candidate}`));
  });
  chart.append(svg("line", { x1: L, x2: W - R, y1: axis, y2: axis, class: "axis" }));
  chart.append(svg("text", { x: x(dist.min), y: axis + 15, class: "tick", "text-anchor": "start" }, `min ${unit(dist.min)}`));
  chart.append(svg("text", { x: x(dist.max), y: axis + 15, class: "tick", "text-anchor": "end" }, `max ${unit(dist.max)}`));
  fig.append(el("figcaption", {}, el("strong", { text: title }), ` ${summary}`), chart);
  return fig;
}

/** A histogram of the number of flags per candidate (the exam's distribution, bars labelled). */
export function flagHistogram(cands, selected) {
  const W = 380, H = 132, L = 12, bottom = 96;
  const totals = cands.filter((c) => c.flags !== undefined).map((c) => ({ id: c.session_id, n: c.flags.value }));
  const fig = el("figure", { class: "chart" });
  if (!totals.length) {
    fig.append(el("figcaption", { text: "Flags per candidate: no candidate has started yet." }));
    return fig;
  }
  const max = Math.max(...totals.map((t) => t.n));
  const bins = Array.from({ length: max + 1 }, (_, n) => totals.filter((t) => t.n === n));
  const highest = Math.max(...bins.map((b) => b.length));
  const bw = Math.min(60, (W - 2 * L) / bins.length);
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "histogram", role: "img", "aria-labelledby": "hist-t hist-d" });
  const summary = bins.map((b, n) => `${b.length} with ${n}`).filter((_, n) => bins[n].length).join(", ");
  chart.append(svg("title", { id: "hist-t" }, "Flags per candidate"), svg("desc", { id: "hist-d" }, `${summary}.`));
  bins.forEach((b, n) => {
    const h = highest ? (b.length / highest) * 70 : 0;
    const sel = b.some((t) => t.id === selected);
    chart.append(svg("rect", { x: L + n * bw + 2, y: bottom - h, width: bw - 4, height: h, class: sel ? "bar selected" : "bar" }));
    if (b.length) chart.append(svg("text", { x: L + n * bw + bw / 2, y: bottom - h - 4, "text-anchor": "middle", class: "tick" }, String(b.length)));
    chart.append(svg("text", { x: L + n * bw + bw / 2, y: bottom + 14, "text-anchor": "middle", class: "tick" }, String(n)));
  });
  chart.append(svg("line", { x1: L, x2: L + bins.length * bw, y1: bottom, y2: bottom, class: "axis" }));
  chart.append(svg("text", { x: L + (bins.length * bw) / 2, y: bottom + 32, "text-anchor": "middle", class: "tick" }, "number of flags"));
  fig.append(el("figcaption", {}, el("strong", { text: "Flags per candidate" }), ` (bars: how many candidates have 0, 1, 2… flags). ${summary}.`), chart);
  return fig;
}

export const KIND_LABEL = { activated: "Started", handed_in: "Handed in", closed: "Session closed", offline: "Offline", evidence: "Evidence", event: "Event", flag: "Flag", note: "Incident note", decision: "Decision" };

export function describe(e) {
  switch (e.kind) {
    case "offline": return `offline for ${fmtDuration(e.seconds)}${e.end ? ` (until ${fmtTime(e.end)})` : " (still offline)"}`;
    case "evidence": return `${words(e.item_kind)}${e.status === "erased" ? " (erased)" : ""}`;
    case "event": return `${words(e.type)}${e.severity ? ` (${e.severity})` : ""}`;
    case "flag": return `${e.severity} flag: ${words(e.behaviour)} until ${fmtTime(e.end)}, peak ${Number(e.peak_score).toFixed(2)} (${e.source})`;
    case "note": return `“${e.text}”`;
    case "decision": return `${words(e.outcome)}: “${e.reason}”`;
    default: return "";
  }
}

const ITEM_LETTER = { screenshot: "S", webcam_frame: "W", webcam_clip: "W", process_snapshot: "P", browser_history: "B", handin_file: "H", handin_backup: "H", audio_clip: "A" };

function ticks(t0, t1, width, L) {
  const span = (t1 - t0) / 1000;
  const step = [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200].find((s) => span / s <= 10) ?? 14400;
  const out = [];
  const first = Math.ceil(t0 / 1000 / step) * step * 1000;
  for (let t = first; t <= t1; t += step * 1000) out.push({ t, x: L + ((t - t0) / (t1 - t0)) * width, seconds: step < 60 });
  return out;
}

/** The candidate's exam on a time axis: connection (offline stretches marked), flags by severity
 * (colour, letter and name), evidence items, notes and decisions, the hand-in. */
export function timelineChart(tl, flags, name) {
  const entries = tl.entries;
  // The axis spans the exam session; notes and decisions made days later sit at its right edge.
  const during = entries.filter((e) => e.kind !== "note" && e.kind !== "decision");
  const times = (during.length ? during : entries).flatMap((e) => [e.at, e.end].filter(Boolean)).map((t) => Date.parse(t));
  if (!times.length) return el("p", { class: "hint", text: "Nothing has happened in this session yet." });
  let t0 = Math.min(...times), t1 = Math.max(...times, tl.last_heartbeat_at ? Date.parse(tl.last_heartbeat_at) : 0);
  if (t1 - t0 < 60_000) { t0 -= 30_000; t1 += 30_000; }
  const padT = (t1 - t0) * 0.03;
  t0 -= padT; t1 += padT;
  const W = 900, L = 150, R = 16, plotW = W - L - R;
  const x = (iso) => L + ((Math.min(Math.max(Date.parse(iso), t0), t1) - t0) / (t1 - t0)) * plotW;
  // Flags and their labels must not overlap: each goes to the first row with room, greedily. A label
  // sits inside its bar when it fits, else after it (or before it, at the right edge).
  const rows = [];
  const placed = [...flags].sort((p, q) => p.start.localeCompare(q.start)).map((f) => {
    const a = x(f.start), b = Math.max(x(f.end), a + 6);
    const text = `${f.severity.toUpperCase()} · ${words(f.behaviour)}`;
    const textW = text.length * 6.6 + 10;
    const where = b - a > textW ? "inside" : b + textW <= W - R ? "after" : "before";
    const from = where === "before" ? a - textW : a, to = where === "after" ? b + textW : b;
    let row = rows.findIndex((end) => end + 6 < from);
    if (row < 0) { rows.push(to); row = rows.length - 1; } else rows[row] = to;
    return { f, a, b, row, text, where };
  });
  const lane = { conn: 34, flags: 74 };
  const flagRows = Math.max(1, rows.length);
  lane.evidence = lane.flags + flagRows * 26 + 18;
  lane.people = lane.evidence + 44;
  const axisY = lane.people + 34;
  const H = axisY + 44;
  const chart = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "timeline", role: "img", "aria-labelledby": "tl-t tl-d" });
  const counts = SEVERITIES.map((s) => `${flags.filter((f) => f.severity === s).length} ${s}`).join(", ");
  chart.append(svg("title", { id: "tl-t" }, `Timeline of ${name}`));
  chart.append(svg("desc", { id: "tl-d" }, `From ${fmtTime(new Date(t0).toISOString())} to ${fmtTime(new Date(t1).toISOString())} (${tz}). Flags: ${counts}. The same events are listed below the chart.`));
  for (const tk of ticks(t0, t1, plotW, L)) {
    chart.append(svg("line", { x1: tk.x, x2: tk.x, y1: 14, y2: axisY, class: "grid" }));
    chart.append(svg("text", { x: tk.x, y: axisY + 16, "text-anchor": "middle", class: "tick" }, (tk.seconds ? clock : shortClock).format(new Date(tk.t))));
  }
  chart.append(svg("line", { x1: L, x2: W - R, y1: axisY, y2: axisY, class: "axis" }));
  chart.append(svg("text", { x: L + plotW / 2, y: axisY + 36, "text-anchor": "middle", class: "axis-title" }, `Time (${tz})`));
  const label = (y, text) => chart.append(svg("text", { x: L - 8, y: y + 4, "text-anchor": "end", class: "lane-label" }, text));
  label(lane.conn, "Connection");
  label(lane.flags + ((flagRows - 1) * 26) / 2, "Flags");
  label(lane.evidence, "Evidence");
  label(lane.people, "Notes, decisions");

  // Connection: active from start to hand-in/close (or the last heartbeat), offline stretches over it.
  const start = entries.find((e) => e.kind === "activated")?.at;
  const end = entries.find((e) => e.kind === "handed_in")?.at ?? entries.find((e) => e.kind === "closed")?.at ?? tl.last_heartbeat_at;
  if (start) {
    const a = x(start), b = end ? Math.max(x(end), a + 2) : W - R;
    const active = svg("rect", { x: a, y: lane.conn - 8, width: b - a, height: 16, class: "active" });
    active.append(svg("title", {}, `Connected from ${fmtTime(start)}${end ? ` to ${fmtTime(end)}` : ""}`));
    chart.append(active);
  }
  for (const e of entries.filter((e) => e.kind === "offline")) {
    const a = x(e.at), b = Math.max(x(e.end ?? new Date(t1).toISOString()), a + 3);
    const off = svg("rect", { x: a, y: lane.conn - 8, width: b - a, height: 16, class: "offline" });
    off.append(svg("title", {}, `Offline ${fmtTime(e.at)}–${fmtTime(e.end)} (${fmtDuration(e.seconds)})`));
    chart.append(off);
    if (b - a > 50) chart.append(svg("text", { x: (a + b) / 2, y: lane.conn + 4, "text-anchor": "middle", class: "on-dark" }, "offline"));
  }
  const handin = entries.find((e) => e.kind === "handed_in");
  if (handin) {
    const hx = x(handin.at);
    chart.append(svg("line", { x1: hx, x2: hx, y1: 10, y2: axisY, class: "handin" }));
    chart.append(svg("text", { x: hx - 4, y: 12, "text-anchor": "end", class: "handin-label" }, `handed in ${fmtTime(handin.at)}`));
  }
  for (const { f, a, b, row, text, where } of placed) {
    const y = lane.flags + row * 26;
    const g = svg("g", { class: `flag sev-${f.severity}` });
    g.append(svg("rect", { x: a, y: y - 10, width: b - a, height: 20, rx: 3 }));
    g.append(svg("title", {}, `${f.severity} flag: ${words(f.behaviour)}, ${fmtTime(f.start)}–${fmtTime(f.end)}, peak ${Number(f.peak_score).toFixed(2)} (${f.source})`));
    const at = { inside: [a + 5, "start"], after: [b + 5, "start"], before: [a - 5, "end"] }[where];
    g.append(svg("text", { x: at[0], y: y + 4, "text-anchor": at[1], class: where === "inside" ? "flag-text" : "flag-text outside" }, text));
    chart.append(g);
  }
  let lastLetter = -Infinity;
  for (const e of entries.filter((e) => e.kind === "evidence")) {
    const cx = x(e.at);
    if (cx - lastLetter > 12) {
      chart.append(svg("text", { x: cx, y: lane.evidence + 22, "text-anchor": "middle", class: "item-letter" }, ITEM_LETTER[e.item_kind] ?? "·"));
      lastLetter = cx;
    }
    const mark = svg("line", { x1: cx, x2: cx, y1: lane.evidence - 9, y2: lane.evidence + 9, class: e.status === "erased" ? "item erased" : "item" });
    mark.append(svg("title", {}, `${words(e.item_kind)} ${fmtTime(e.at)}${e.status === "erased" ? " (erased)" : ""}`));
    chart.append(mark);
  }
  let lastX = -Infinity, lastRow = 1;
  for (const e of entries.filter((e) => e.kind === "note" || e.kind === "decision")) {
    const cx = x(e.at);
    const row = cx - lastX < 20 ? 1 - lastRow : 0; // two markers close together: one above the other
    [lastX, lastRow] = [cx, row];
    const y = lane.people - 10 + row * 20;
    const g = svg("g", { class: e.kind });
    g.append(svg("path", { d: `M${cx} ${y - 9} L${cx + 9} ${y} L${cx} ${y + 9} L${cx - 9} ${y} Z` }));
    g.append(svg("text", { x: cx, y: y + 4, "text-anchor": "middle" }, e.kind === "note" ? "N" : "D"));
    g.append(svg("title", {}, `${KIND_LABEL[e.kind]} ${fmtTime(e.at)}: ${describe(e)}`));
    if (Date.parse(e.at) > t1) g.append(svg("text", { x: cx - 12, y: y + 4, "text-anchor": "end", class: "later" }, "later"));
    chart.append(g);
  }
  const legend = el("p", { class: "legend" }, "Key: ", chip("red", "red flag"), " ", chip("yellow", "yellow flag"), " ", chip("green", "green flag"), " ",
    el("span", { class: "key-active", text: "connected" }), " ", el("span", { class: "key-offline", text: "offline" }),
    " · N = incident note, D = decision · evidence: S screenshot, W webcam, P processes, B browser history, H hand-in file (dotted red: erased).");
  return el("figure", { class: "chart wide" }, chart, legend);
}
