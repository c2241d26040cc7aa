// The invigilator's live board (templates/board.html, ADR 0015). Rows come from the staff API's
// server-sent events (exams/board_stream.py) and are updated in place; sorting and filtering happen
// here. A candidate opens in a side panel of this same document, so the key unlocked once on this
// page (staff-keys.js) opens every candidate's last screen and webcam picture. Every read goes
// through the JSON API, which checks access and writes the access log.
import { KeyLocked, StaffKeys, render, unlockPanel } from "./staff-keys.js";

const root = document.getElementById("board");
const examId = root.dataset.examId;
const seesEvidence = root.dataset.seesEvidence === "true";
const behaviours = seesEvidence ? JSON.parse(root.dataset.behaviours ?? "{}") : {};
const csrfToken = JSON.parse(document.body.getAttribute("hx-headers") ?? "{}")["X-CSRF-Token"];
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

// ---- states, in the order that needs attention first --------------------------------------------
const STATES = {
  offline: { label: "offline", order: 0, connection: "offline" },
  activated: { label: "started", order: 1, connection: "online" },
  running: { label: "running", order: 2, connection: "online" },
  issued: { label: "not started", order: 3, connection: null },
  handed_in: { label: "handed in", order: 4, connection: "online" },
  tail: { label: "handed in", order: 5, connection: "online" },
  closed: { label: "finished", order: 6, connection: null },
  abandoned: { label: "absent", order: 7, connection: null },
};
const stateOf = (s) => STATES[s] ?? { label: s, order: 99, connection: null };
const SUMMARY = ["running", "offline", "started", "not started", "handed in", "finished", "absent"];
const SEVERITIES = ["red", "yellow", "green"];

// ---- time, as the server sees it ----------------------------------------------------------------
let clockOffset = 0; // server time - this computer's time, from each update's "at"
const now = () => Date.now() + clockOffset;
// Times in UTC, as everywhere else in Invigil's pages (the exam's own time zone is in the heading).
const hhmm = (iso) => new Date(iso).toLocaleTimeString("en-GB", { timeZone: "UTC", hourCycle: "h23" });
function ago(iso) {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s ago`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
}

// ---- the API, with the login cookie and the CSRF header ------------------------------------------
async function api(url, { method = "GET", body } = {}) {
  const headers = method === "GET" ? {} : { "X-CSRF-Token": csrfToken, "Content-Type": "application/json" };
  const r = await fetch(url, {
    method, headers, body: body && JSON.stringify(body), credentials: "same-origin", cache: "no-store",
  });
  if (r.status === 401) throw new Error("Your login has ended. Reload the page to log in again.");
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.message ?? `The server answered ${r.status}.`);
  return data;
}
const staffApi = (path) => `/api/v1/staff${path}`;

// ---- the rows -------------------------------------------------------------------------------------
const tbody = $("rows");
const rows = new Map(); // session id -> {data, tr, cells}
let sort = { key: "state", dir: 1 };
let first = true;

function flagChips(flags) {
  const chips = SEVERITIES.filter((s) => flags?.[s]).map((s) =>
    el("span", { className: `flag-chip flag-${s}`, textContent: `${flags[s]} ${s}` }));
  return chips.length ? chips : [el("span", { className: "flag-none", textContent: "none" })];
}

function makeRow(data) {
  const tr = el("tr");
  tr.dataset.session = data.session_id;
  // Once shown, the highlight goes: moving or unhiding a row would replay it.
  for (const done of ["animationend", "animationcancel"]) tr.addEventListener(done, () => tr.classList.remove("changed"));
  const who = seesEvidence
    ? el("button", { type: "button", className: "candidate-open", textContent: data.candidate },
      el("span", { className: "visually-hidden", textContent: ": open the candidate's details" }))
    : el("span", { className: "candidate-id", textContent: data.candidate });
  if (seesEvidence) {
    who.setAttribute("aria-controls", "panel");
    who.setAttribute("aria-expanded", "false");
    who.addEventListener("click", () => openCandidate(data.session_id, who));
  }
  const cells = {
    state: el("span", { className: "state-badge" }),
    connection: el("span", { className: "connection-mark" }),
    heartbeat: el("time"),
    flags: el("td", { className: "flags" }),
  };
  tr.append(el("th", { scope: "row" }, who), el("td", {}, cells.state), el("td", {}, cells.connection),
    el("td", { className: "heartbeat" }, cells.heartbeat));
  if (seesEvidence) tr.append(cells.flags);
  return { data, tr, cells, button: seesEvidence ? who : null };
}

function fillRow(row, data) {
  const changed = row.data.state !== data.state;
  row.data = data;
  const state = stateOf(data.state);
  row.cells.state.textContent = state.label;
  row.cells.state.dataset.state = data.state;
  const connection = state.connection;
  row.cells.connection.textContent = connection ?? "—";
  row.cells.connection.dataset.connection = connection ?? "none";
  row.cells.heartbeat.dateTime = data.last_heartbeat_at ?? "";
  row.cells.heartbeat.textContent = ago(data.last_heartbeat_at);
  if (seesEvidence) row.cells.flags.replaceChildren(...flagChips(data.flags));
  if (changed && !first) {
    row.tr.classList.remove("changed");
    void row.tr.offsetWidth; // restart the highlight
    row.tr.classList.add("changed");
  }
}

function update(board) {
  clockOffset = Date.parse(board.at) - Date.now();
  const seen = new Set();
  for (const data of board.sessions) {
    seen.add(data.session_id);
    let row = rows.get(data.session_id);
    if (!row) {
      row = makeRow(data);
      rows.set(data.session_id, row);
      row.data = { ...data, state: null };
    }
    fillRow(row, data);
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) { row.tr.remove(); rows.delete(id); }
  }
  first = false;
  arrange();
  summarise();
  if (current && rows.has(current)) panelState(rows.get(current).data);
}

// ---- sorting and filtering -------------------------------------------------------------------------
// Pseudonyms are random codes, not numbers: plain character order, the same in every browser.
const byCandidate = (a, b) => (a.candidate < b.candidate ? -1 : a.candidate > b.candidate ? 1 : 0);
const COMPARE = {
  candidate: byCandidate,
  state: (a, b) => stateOf(a.state).order - stateOf(b.state).order || byCandidate(a, b),
  heartbeat: (a, b) => ((a.last_heartbeat_at ? Date.parse(a.last_heartbeat_at) : Infinity)
    - (b.last_heartbeat_at ? Date.parse(b.last_heartbeat_at) : Infinity)) || byCandidate(a, b),
  red: (a, b) => SEVERITIES.map((s) => (b.flags?.[s] ?? 0) - (a.flags?.[s] ?? 0)).find((d) => d) || byCandidate(a, b),
};
// The first press sorts the useful way round: the most red flags first, the longest silence first.
const NATURAL = { candidate: "ascending", state: "ascending", heartbeat: "ascending", red: "descending" };

function matches(data) {
  const text = $("search").value.trim().toLowerCase();
  const state = $("state-filter").value;
  const flagged = $("only-flagged")?.checked;
  if (text && !data.candidate.toLowerCase().includes(text)) return false;
  if (state && data.state !== state) return false;
  if (flagged && !SEVERITIES.some((s) => data.flags?.[s])) return false;
  return true;
}

function arrange() {
  const focused = document.activeElement?.closest?.("tr")?.dataset.session;
  const ordered = [...rows.values()].sort((a, b) => sort.dir * COMPARE[sort.key](a.data, b.data));
  let shown = 0;
  for (const row of ordered) {
    row.tr.hidden = !matches(row.data);
    if (!row.tr.hidden) shown += 1;
  }
  const inPlace = ordered.every((row, i) => tbody.children[i] === row.tr);
  if (!inPlace) tbody.append(...ordered.map((row) => row.tr));
  if (focused && document.activeElement === document.body) rows.get(focused)?.button?.focus();
  $("empty").hidden = shown > 0 || rows.size === 0;
  $("shown").textContent = shown === rows.size ? `${rows.size} candidates` : `Showing ${shown} of ${rows.size} candidates`;
}

function setSort(key) {
  sort = { key, dir: sort.key === key ? -sort.dir : 1 };
  for (const button of document.querySelectorAll("button.sort")) {
    const th = button.closest("th");
    if (button.dataset.sort !== key) { th.setAttribute("aria-sort", "none"); continue; }
    const natural = NATURAL[key];
    th.setAttribute("aria-sort", sort.dir === 1 ? natural : natural === "ascending" ? "descending" : "ascending");
  }
  arrange();
}

function summarise() {
  const counts = new Map();
  for (const { data } of rows.values()) {
    const label = stateOf(data.state).label;
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const parts = [...SUMMARY, ...[...counts.keys()].filter((k) => !SUMMARY.includes(k))]
    .filter((label) => counts.get(label)).map((label) => `${counts.get(label)} ${label}`);
  const text = parts.length ? parts.join(", ") : "No candidates registered yet";
  if ($("summary").textContent !== text) $("summary").textContent = text; // announced only on change
}

for (const button of document.querySelectorAll("button.sort")) {
  button.addEventListener("click", () => setSort(button.dataset.sort));
}
$("filters").addEventListener("input", arrange);
$("filters").addEventListener("submit", (event) => event.preventDefault());

// ---- the live stream ---------------------------------------------------------------------------------
const connection = $("connection");
function setConnection(state, text) {
  connection.dataset.state = state;
  connection.textContent = text;
}

function connect() {
  const stream = new EventSource(staffApi(`/exams/${encodeURIComponent(examId)}/board/stream`));
  stream.addEventListener("open", () => setConnection("live", "Live"));
  stream.addEventListener("board", (event) => {
    setConnection("live", "Live");
    update(JSON.parse(event.data));
  });
  stream.addEventListener("end", (event) => {
    stream.close();
    const reason = JSON.parse(event.data).reason;
    setConnection("ended", "Stopped");
    $("summary").textContent = `${reason} The rows below are no longer updated.`;
  });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) {
      setConnection("ended", "Stopped");
      $("summary").textContent = "The live board stopped: your access may have ended, or you were logged out. Reload the page to try again.";
    } else {
      setConnection("reconnecting", "Reconnecting…");
    }
  });
  window.addEventListener("pagehide", () => stream.close());
}

setInterval(() => {
  for (const row of rows.values()) row.cells.heartbeat.textContent = ago(row.data.last_heartbeat_at);
}, 1000);

// ---- the candidate panel -------------------------------------------------------------------------------
const panel = $("panel");
let current = null; // the open candidate's session id
let opener = null; // the button that opened it, to return focus to
let generation = 0; // answers for a candidate closed meanwhile are dropped
const urls = []; // blob: URLs of opened pictures, revoked when they leave the page

const keys = seesEvidence ? new StaffKeys({
  staffId: root.dataset.staffId,
  idleMs: Number(root.dataset.idleMs),
  onForget: (reason) => {
    clearPictures(reason === "idle"
      ? "Your key was locked again after a while without use, and the pictures were removed. Unlock it to see them again."
      : "Your key is locked: the pictures were removed from this page.");
  },
}) : null;

function clearPictures(message = "") {
  for (const figure of [$("last-screenshot"), $("last-webcam")]) {
    figure.querySelector(".frame").replaceChildren();
    figure.querySelector("figcaption").textContent = figure.id === "last-webcam" ? "Webcam" : "Screen";
  }
  while (urls.length) URL.revokeObjectURL(urls.pop());
  $("evidence-status").textContent = message;
  $("evidence-refresh").hidden = true;
}

function panelState(data) {
  const state = stateOf(data.state);
  $("panel-state").replaceChildren(
    el("span", { className: "state-badge", textContent: state.label }), " ",
    `last heartbeat ${data.last_heartbeat_at ? `${hhmm(data.last_heartbeat_at)} UTC` : "never"}`,
    data.offline_seconds ? ` · offline ${Math.round(data.offline_seconds)} s in all` : "",
    ` · ${data.items} items received`,
  );
  $("panel-state").firstChild.dataset.state = data.state;
}

async function loadEvidence() {
  const gen = generation, sessionId = current;
  clearPictures("Opening the last pictures in this browser…");
  try {
    const listing = await api(staffApi(`/sessions/${encodeURIComponent(sessionId)}/evidence`));
    if (gen !== generation) return;
    let shown = 0;
    for (const [kind, figure, name] of [["screenshot", "last-screenshot", "Screen"], ["webcam_frame", "last-webcam", "Webcam"]]) {
      const items = listing.items.filter((i) => i.kind === kind);
      const last = items.sort((a, b) => Date.parse(a.captured_at) - Date.parse(b.captured_at)).at(-1);
      const box = $(figure);
      if (!last) {
        box.querySelector(".frame").replaceChildren(el("p", { className: "hint", textContent: "Nothing received yet." }));
        continue;
      }
      const plaintext = await keys.open(examId, last, listing.session_id);
      if (gen !== generation) return;
      box.querySelector(".frame").replaceChildren(render(last, plaintext, urls));
      box.querySelector("figcaption").textContent = `${name}, captured at ${hhmm(last.captured_at)} UTC`;
      shown += 1;
    }
    $("evidence-status").textContent = shown
      ? "Opened in this browser with your key. Viewing is recorded in the access log."
      : "No screen or webcam picture has arrived from this candidate yet.";
    $("evidence-refresh").hidden = false;
  } catch (err) {
    if (gen !== generation) return;
    $("evidence-status").textContent = err instanceof KeyLocked
      ? "Unlock your key above to see this candidate's last screen and webcam picture."
      : `Could not open the pictures: ${err.message ?? err}`;
  }
}

function severityChip(severity) {
  return el("span", { className: `flag-chip flag-${severity}`, textContent: severity });
}

async function loadFlags() {
  const gen = generation;
  $("flag-list").replaceChildren();
  $("flags-status").textContent = "Loading…";
  try {
    const report = await api(staffApi(`/sessions/${encodeURIComponent(current)}/flags`));
    if (gen !== generation) return;
    const flags = [...report.flags].sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity)
      || Date.parse(b.start) - Date.parse(a.start));
    $("flags-status").textContent = flags.length ? "" : "No flags.";
    $("flag-list").replaceChildren(...flags.map((f) => el("li", {},
      severityChip(f.severity), " ",
      el("span", { className: "flag-what", textContent: behaviours[f.behaviour] ?? f.behaviour }), " ",
      el("span", { className: "hint", textContent: `${hhmm(f.start)}–${hhmm(f.end)} UTC${f.authoritative ? "" : f.confirmed_by_worker ? " · seen by the agent, confirmed" : " · seen by the agent, not (yet) confirmed by the analysis"}` }))));
  } catch (err) {
    if (gen === generation) $("flags-status").textContent = `Could not load the flags: ${err.message}`;
  }
}

function noteItem(note) {
  const by = note.staff_id === root.dataset.staffId ? "you" : "a colleague";
  return el("li", {}, el("span", { className: "note-meta", textContent: `${hhmm(note.at)} UTC, ${by}` }),
    el("p", { textContent: note.text }));
}

async function loadNotes() {
  const gen = generation;
  $("note-list").replaceChildren();
  try {
    const listing = await api(staffApi(`/exams/${encodeURIComponent(examId)}/notes`));
    if (gen !== generation) return;
    const mine = listing.notes.filter((n) => n.session_id === current);
    $("note-list").replaceChildren(...mine.map(noteItem));
    $("note-status").textContent = mine.length ? "" : "No notes about this candidate yet.";
  } catch (err) {
    if (gen === generation) $("note-status").textContent = `Could not load the notes: ${err.message}`;
  }
}

function openCandidate(sessionId, button) {
  const row = rows.get(sessionId);
  if (!row) return;
  generation += 1;
  for (const other of rows.values()) {
    other.tr.classList.toggle("selected", other === row);
    other.button?.setAttribute("aria-expanded", String(other === row));
  }
  current = sessionId;
  opener = button;
  panel.hidden = false;
  root.classList.add("with-panel");
  $("panel-candidate").textContent = row.data.candidate;
  panelState(row.data);
  $("panel-title").focus();
  loadFlags();
  loadNotes();
  if (!$("unlock-form")) {
    clearPictures("You have no personal key yet, so pictures cannot be opened here.");
  } else if (keys.unlocked) {
    loadEvidence();
  } else {
    clearPictures("Unlock your key above to see this candidate's last screen and webcam picture.");
  }
}

function closePanel() {
  generation += 1;
  current = null;
  panel.hidden = true;
  root.classList.remove("with-panel");
  clearPictures();
  for (const row of rows.values()) {
    row.tr.classList.remove("selected");
    row.button?.setAttribute("aria-expanded", "false");
  }
  opener?.focus();
}

if (seesEvidence) {
  $("panel-close").addEventListener("click", closePanel);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePanel();
  });
  $("evidence-refresh").addEventListener("click", () => loadEvidence());
  unlockPanel(keys, () => { if (current) return loadEvidence(); });
  $("note-form")?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = $("note-text");
    const text = field.value.trim();
    if (!text) return;
    const gen = generation;
    $("note-status").textContent = "Saving…";
    try {
      const note = await api(staffApi(`/exams/${encodeURIComponent(examId)}/notes`), {
        method: "POST", body: { text, session_id: current },
      });
      if (gen !== generation) return;
      $("note-list").append(noteItem(note));
      field.value = "";
      $("note-status").textContent = "Note saved.";
    } catch (err) {
      $("note-status").textContent = `The note was not saved: ${err.message}`;
    }
  });
}

connect();
