// The reviewer workspace (templates/review.html, ADR 0015, ADR 0021): one document per exam. Every
// piece of candidate data comes from the staff JSON API with the login cookie (the API checks access
// and writes the access log); evidence is opened here with staff-keys.js after one unlock. The
// charts (inline SVG, no library) are review-charts.js's. No inline script or style (strict CSP).
import { StaffKeys, render, unlockPanel } from "./staff-keys.js";
import {
  KIND_LABEL, SEVERITIES, chip, describe, el, flagHistogram, fmtCoarse, fmtTime, stripPlot, timeEl, timelineChart,
  useTimeZone, words,
} from "./review-charts.js";

const root = document.getElementById("review");
const examId = root.dataset.examId;
useTimeZone(root.dataset.examTz);
const csrf = root.dataset.csrf;
const mayDecide = root.dataset.mayDecide === "true";
const status = document.getElementById("review-status");
const $ = (id) => document.getElementById(id);

// ---- the API -------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

async function api(path, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") Object.assign(headers, { "Content-Type": "application/json", "X-CSRF-Token": csrf });
  const r = await fetch(`/api/v1/staff${path}`, {
    method, headers, credentials: "same-origin", cache: "no-store", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, data.message ?? `The server answered ${r.status}.`);
  return data;
}


function say(text) { status.textContent = text; }

// ---- keys ----------------------------------------------------------------------------------------
const viewerUrls = [];
const keys = new StaffKeys({
  staffId: root.dataset.staffId,
  idleMs: Number(root.dataset.idleMs),
  onForget: (reason) => {
    closeViewer(); // nothing decrypted stays on screen once the key is gone
    const form = $("unlock-form");
    if (form) form.hidden = false;
    const lock = $("lock");
    if (lock) lock.hidden = true;
    $("key-status").textContent = reason === "idle"
      ? "Your key was locked again after a while without use, and opened items were closed. Unlock it to continue."
      : "Your key is locked; opened items were closed.";
  },
});

unlockPanel(keys, async () => {
  try {
    await keys.examKeys(examId);
    say("Your key is unlocked on this page: choose an evidence item to open it.");
  } catch (err) {
    say(`Your key is unlocked, but this exam's key did not open: ${err.message ?? err}`);
  }
});

// ---- the exam overview ---------------------------------------------------------------------------
const state = { cohort: null, flags: null, current: null, items: [] };

function peakScores(examFlags) {
  const peak = new Map();
  for (const s of examFlags.sessions) {
    peak.set(s.session_id, s.flags.reduce((m, f) => Math.max(m, f.peak_score), 0));
  }
  return peak;
}

/** Red count, then yellow, then the highest peak score; the pseudonym breaks ties (stable order). */
export function rank(candidates, peak) {
  const key = (c) => [c.flags_by_severity?.red ?? 0, c.flags_by_severity?.yellow ?? 0, peak.get(c.session_id) ?? 0];
  return [...candidates].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i] - x[i];
    return a.candidate.localeCompare(b.candidate);
  });
}


function drawCharts() {
  const { distribution, candidates } = state.cohort;
  const sel = state.current?.session_id;
  const pick = (metric) => candidates.filter((c) => c[metric]).map((c) => ({ session_id: c.session_id, candidate: c.candidate, value: c[metric].value }));
  $("cohort-charts").replaceChildren(
    stripPlot({ id: "start", title: "Start time after the exam began", unit: fmtCoarse, values: pick("start_offset_seconds"), dist: distribution.start_offset_seconds, selected: sel }),
    stripPlot({ id: "handin", title: "Time from start to hand-in", unit: fmtCoarse, values: pick("time_to_handin_seconds"), dist: distribution.time_to_handin_seconds, selected: sel }),
    flagHistogram(candidates, sel),
  );
}

function drawRanking() {
  const peak = peakScores(state.flags);
  const rows = rank(state.cohort.candidates, peak).map((c, i) => {
    const counts = c.flags_by_severity ?? {};
    const open = el("button", { type: "button", class: "link", text: c.candidate, "data-session": c.session_id });
    open.setAttribute("aria-label", `Open candidate ${c.candidate}`);
    open.addEventListener("click", () => openCandidate(c.session_id));
    const tr = el("tr", { "data-session": c.session_id },
      el("td", { text: String(i + 1) }),
      el("th", { scope: "row" }, open),
      ...SEVERITIES.map((s) => el("td", {}, counts[s] ? chip(s, `${counts[s]} ${s}`) : el("span", { class: "none", text: "0" }))),
      el("td", { text: peak.get(c.session_id) ? peak.get(c.session_id).toFixed(2) : "—" }),
      el("td", { text: c.start_offset_seconds ? `+${fmtCoarse(c.start_offset_seconds.value)}` : "not started" }),
      el("td", { text: c.time_to_handin_seconds ? fmtCoarse(c.time_to_handin_seconds.value) : "—" }),
    );
    if (state.current?.session_id === c.session_id) tr.setAttribute("aria-current", "true");
    return tr;
  });
  $("ranking").tBodies[0].replaceChildren(...rows);
}

function drawNearDuplicates() {
  const names = new Map(state.flags.sessions.map((s) => [s.session_id, s.candidate]));
  const pairs = new Map();
  for (const s of state.flags.sessions) {
    for (const f of s.flags) {
      if (f.behaviour !== "handin.near_duplicate" || !f.data?.other_session) continue;
      const ids = [s.session_id, f.data.other_session].sort();
      pairs.set(ids.join(" "), { ids, similarity: f.data.similarity });
    }
  }
  if (!pairs.size) return;
  const list = el("ul", { class: "pairs" });
  for (const { ids, similarity } of pairs.values()) {
    const li = el("li", {});
    ids.forEach((id, i) => {
      const b = el("button", { type: "button", class: "link", text: names.get(id) ?? id });
      b.addEventListener("click", () => openCandidate(id));
      li.append(i ? " and " : "", b);
    });
    li.append(` — similarity ${Number(similarity).toFixed(2)} (a measure of shared text, not proof of copying)`);
    list.append(li);
  }
  $("near-duplicates").replaceChildren(list);
}

async function loadOverview() {
  try {
    [state.cohort, state.flags] = await Promise.all([api(`/exams/${examId}/cohort`), api(`/exams/${examId}/flags`)]);
  } catch (err) {
    say(`The exam overview could not be loaded: ${err.message}`);
    return;
  }
  drawCharts();
  drawRanking();
  drawNearDuplicates();
  say(`${state.cohort.candidates.length} candidates. Choose one to see their timeline and evidence.`);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("session");
  if (wanted && state.cohort.candidates.some((c) => c.session_id === wanted)) await openCandidate(wanted);
}

// ---- one candidate: timeline -----------------------------------------------------------------------

function drawTimelineList(tl) {
  $("timeline-list").replaceChildren(...tl.entries.filter((e) => e.kind !== "event" || e.type).map((e) =>
    el("li", { class: `entry entry-${e.kind}` }, timeEl(e.at), " ", el("strong", { text: KIND_LABEL[e.kind] ?? e.kind }),
      e.kind === "flag" ? " " : "", e.kind === "flag" ? chip(e.severity) : null, ` ${describe(e)}`)));
}

function drawFlags(flags) {
  const byClient = new Map(state.items.map((i) => [i.client_id, i]));
  const rows = flags.map((f) => {
    const links = (f.evidence ?? []).map((cid) => {
      const item = byClient.get(cid);
      if (!item) return el("span", { class: "hint", text: `${cid.slice(0, 10)}… (not stored)` });
      const b = el("button", { type: "button", class: "link", text: `${words(item.kind)} ${fmtTime(item.captured_at)}`, "data-item": item.id });
      if (item.status === "erased") { b.disabled = true; b.textContent += " (erased)"; } else b.addEventListener("click", () => openItem(item));
      return b;
    });
    const refs = el("td", {});
    if (!links.length) refs.append("—");
    links.forEach((l, i) => refs.append(i ? ", " : "", l));
    const source = f.source === "worker" ? "analysis worker" : `candidate's computer${f.confirmed_by_worker === false ? " (not confirmed by the worker)" : ""}`;
    return el("tr", { class: `flag-row sev-row-${f.severity}` },
      el("td", {}, chip(f.severity)),
      el("td", { text: words(f.behaviour) }),
      el("td", {}, timeEl(f.start), ...(f.end !== f.start ? [" – ", timeEl(f.end)] : [])),
      el("td", { text: Number(f.peak_score).toFixed(2) }),
      el("td", { text: source }),
      refs);
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 6, text: "No flags for this candidate." })));
  $("flags").tBodies[0].replaceChildren(...rows);
}

const KB = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} kB`);

function drawEvidence() {
  const rows = state.items.map((item) => {
    const actions = el("td", { class: "actions" });
    if (item.status === "stored") {
      const open = el("button", { type: "button", class: "secondary", text: "Open", "data-item": item.id });
      open.setAttribute("aria-label", `Open ${words(item.kind)} captured ${fmtTime(item.captured_at)}`);
      open.addEventListener("click", () => openItem(item));
      actions.append(open);
      if (mayDecide) {
        const erase = el("button", { type: "button", class: "secondary danger-outline", text: "Erase…" });
        erase.setAttribute("aria-label", `Erase ${words(item.kind)} captured ${fmtTime(item.captured_at)}`);
        erase.addEventListener("click", () => askErase(item));
        actions.append(" ", erase);
      }
    } else {
      actions.append("—");
    }
    return el("tr", { "data-item": item.id, "data-kind": item.kind },
      el("td", {}, timeEl(item.captured_at)), el("td", { text: words(item.kind) }), el("td", { text: item.size ? KB(item.size) : "—" }),
      el("td", { text: item.status === "erased" ? "erased" : "sealed" }), actions);
  });
  if (!rows.length) rows.push(el("tr", {}, el("td", { colSpan: 5, text: "No evidence items." })));
  $("evidence").tBodies[0].replaceChildren(...rows);
}

function drawDecisions(tl) {
  const list = $("decision-history");
  if (!list) return;
  const decisions = tl.entries.filter((e) => e.kind === "decision");
  list.replaceChildren(...decisions.map((d) => el("li", {}, timeEl(d.at), " ", el("strong", { text: words(d.outcome) }), `: “${d.reason}”`)));
  if (!decisions.length) list.replaceChildren(el("li", { class: "hint", text: "No decision recorded yet." }));
}

function drawNotes(tl) {
  const notes = tl.entries.filter((e) => e.kind === "note");
  $("note-list").replaceChildren(...notes.map((n) => el("li", {}, timeEl(n.at), ` “${n.text}”`)));
  if (!notes.length) $("note-list").replaceChildren(el("li", { class: "hint", text: "No incident notes about this candidate." }));
}

async function openCandidate(sessionId) {
  const c = state.cohort.candidates.find((x) => x.session_id === sessionId);
  if (!c) return;
  closeViewer();
  state.current = c;
  say(`Loading ${c.candidate}…`);
  let tl, fl, ev;
  try {
    [tl, fl, ev] = await Promise.all([
      api(`/sessions/${sessionId}/timeline`), api(`/sessions/${sessionId}/flags`), api(`/sessions/${sessionId}/evidence`),
    ]);
  } catch (err) {
    say(`${c.candidate} could not be opened: ${err.message}`);
    return;
  }
  const stored = ev.items.map((i) => ({ ...i, session_id: sessionId, status: "stored" }));
  const erased = tl.entries.filter((e) => e.kind === "evidence" && e.status === "erased")
    .map((e) => ({ id: e.id, client_id: e.client_id, kind: e.item_kind, size: e.size, captured_at: e.at, session_id: sessionId, status: "erased" }));
  state.items = [...stored, ...erased].sort((a, b) => a.captured_at.localeCompare(b.captured_at));
  history.replaceState(null, "", `#session=${encodeURIComponent(sessionId)}`);
  $("candidate").hidden = false;
  $("candidate-name").textContent = c.candidate;
  const counts = fl.counts ?? {};
  $("candidate-summary").replaceChildren(
    `State: ${words(tl.state)}. Flags: `, ...SEVERITIES.flatMap((s, i) => [i ? ", " : "", chip(s, `${counts[s] ?? 0} ${s}`)]),
    `. Latest decision: ${tl.decision ? `${words(tl.decision.outcome)} (${fmtTime(tl.decision.at)})` : "none yet"}.`);
  $("timeline-chart").replaceChildren(timelineChart(tl, fl.flags, c.candidate));
  drawTimelineList(tl);
  drawFlags(fl.flags);
  drawEvidence();
  drawNotes(tl);
  drawDecisions(tl);
  const caseFile = $("case-file");
  if (caseFile) caseFile.href = `/api/v1/staff/sessions/${encodeURIComponent(sessionId)}/case-file`;
  drawCharts();
  drawRanking();
  say(`Showing ${c.candidate}.`);
  $("candidate-heading").focus();
}

// ---- the evidence viewer -----------------------------------------------------------------------------
function closeViewer() {
  for (const u of viewerUrls.splice(0)) URL.revokeObjectURL(u);
  $("viewer-body").replaceChildren();
  $("viewer").hidden = true;
}
$("viewer-close").addEventListener("click", closeViewer);

function table(caption, head, rows) {
  return el("table", { class: "evidence-table" }, el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, ...r.map((v) => el("td", { text: v ?? "" }))))));
}

/** Readable views of the structured kinds; pictures and anything else through staff-keys' render. */
// Sound clips are WAV; camera clips are animated WebP and play as pictures (staff-keys' render).
function view(item, plaintext) {
  if (item.kind === "audio_clip") {
    const url = URL.createObjectURL(new Blob([plaintext], { type: "audio/wav" }));
    viewerUrls.push(url);
    return el("audio", { controls: true, src: url, "aria-label": `Sound clip captured ${fmtTime(item.captured_at)}` });
  }
  if (item.kind === "process_snapshot" || item.kind === "browser_history") {
    let doc;
    try { doc = JSON.parse(new TextDecoder().decode(plaintext)); } catch { return render(item, plaintext, viewerUrls); }
    if (item.kind === "process_snapshot" && Array.isArray(doc.processes)) {
      const extra = [...new Set(doc.processes.flatMap((p) => Object.keys(p)))].filter((k) => k !== "pid" && k !== "name").slice(0, 4);
      return table(`${doc.processes.length} programs running at ${fmtTime(doc.taken_at ?? item.captured_at)}`, ["PID", "Program", ...extra],
        doc.processes.map((p) => [String(p.pid ?? ""), String(p.name ?? ""), ...extra.map((k) => (typeof p[k] === "object" ? JSON.stringify(p[k]) : String(p[k] ?? "")))]));
    }
    if (item.kind === "browser_history" && Array.isArray(doc.visits)) {
      return table(`${doc.visits.length} pages visited (taken ${fmtTime(doc.taken_at ?? item.captured_at)})`, ["Visited", "Address"],
        doc.visits.map((v) => [v.at ? fmtTime(v.at) : "", String(v.url ?? "")]));
    }
  }
  return render(item, plaintext, viewerUrls);
}

async function openItem(item) {
  if (!keys.unlocked) {
    say("Unlock your key first (the passphrase field above): evidence opens only in this browser.");
    $("passphrase")?.focus();
    return;
  }
  closeViewer();
  $("viewer").hidden = false;
  $("viewer-heading").textContent = `${words(item.kind)} captured ${fmtTime(item.captured_at)}`;
  $("viewer-body").replaceChildren(el("p", { text: "Opening…" }));
  try {
    const plaintext = await keys.open(examId, item);
    $("viewer-body").replaceChildren(view(item, plaintext));
    say(`Opened the ${words(item.kind)} captured ${fmtTime(item.captured_at)}.`);
  } catch (err) {
    $("viewer-body").replaceChildren(el("p", { class: "error", text: `This item did not open: ${err.message ?? err}` }));
  }
  $("viewer-heading").focus();
}

// ---- decisions, erasure -------------------------------------------------------------------------------
const decisionForm = $("decision-form");
decisionForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = $("decision-status");
  const outcome = decisionForm.elements.namedItem("outcome").value;
  const reason = decisionForm.elements.namedItem("reason").value;
  if (!outcome) { out.textContent = "Choose an outcome first."; return; }
  out.textContent = "Recording…";
  try {
    const d = await api(`/sessions/${state.current.session_id}/decisions`, { method: "POST", body: { outcome, reason } });
    decisionForm.reset();
    await openCandidate(state.current.session_id);
    $("decision-status").textContent = `Your decision (${words(d.outcome)}) was recorded at ${fmtTime(d.at)}.`;
  } catch (err) {
    out.textContent = `Not recorded: ${err.message}`;
  }
});

const noteForm = $("note-form");
noteForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const out = $("note-status");
  out.textContent = "Adding…";
  try {
    const body = { text: noteForm.elements.namedItem("text").value, session_id: state.current.session_id };
    const n = await api(`/exams/${examId}/notes`, { method: "POST", body });
    noteForm.reset();
    await openCandidate(state.current.session_id);
    $("note-status").textContent = `Your note was added at ${fmtTime(n.at)}.`;
  } catch (err) {
    out.textContent = `Not added: ${err.message}`;
  }
});

const dialog = $("erase-dialog");
let erasing = null;
function askErase(item) {
  erasing = item;
  $("erase-item").textContent = `${words(item.kind)} captured ${fmtTime(item.captured_at)} (item ${item.client_id}).`;
  $("erase-form").reset();
  $("erase-error").hidden = true;
  dialog.showModal();
}
$("erase-cancel")?.addEventListener("click", () => dialog.close());
$("erase-form")?.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("erase-error");
  const fail = (text) => { error.textContent = text; error.hidden = false; };
  if (!$("erase-confirm").checked) { fail("Tick the box to confirm that the item is deleted for good."); return; }
  try {
    await api(`/evidence/${erasing.id}/erase`, { method: "POST", body: { reason: $("erase-reason").value } });
  } catch (err) {
    fail(`Not erased: ${err.message}`);
    return;
  }
  dialog.close();
  const what = `${words(erasing.kind)} captured ${fmtTime(erasing.captured_at)}`;
  await openCandidate(state.current.session_id);
  say(`The ${what} was erased; the fact and your reason are kept.`);
});

loadOverview();
