// The student portal: open, in this browser, what was recorded about you, with the secret on your
// hand-in receipt. The server sends only sealed envelopes; the secret never leaves this page.
//
// The page (web/templates/portal.html) lists every item, sealed; this script fills each item's slot
// with what it holds once opened: pictures, a table of running programs, a table of web addresses,
// the text of a file. Every word comes from the page's data-portal attribute (portal/texts.py, in
// the page's language): the Content-Security-Policy allows no inline script, and the words are
// translated in one place.
import { BadSecret, InvigilCryptoError, Keyring, openEnvelope, privateKeyFromSecret } from "./invigil-crypto.js";

const root = document.getElementById("portal");
const data = JSON.parse(root.dataset.portal);
const t = data.t;
const form = document.getElementById("secret-form");
const status = document.getElementById("status");
const urls = [];

const say = (template, values = {}) => template.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));

const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
};

const slot = (item) => document.querySelector(`#item-${CSS.escape(item.id)} .slot`);

/** Hide everything opened: the slots show "encrypted" again and the pictures' memory is freed. */
function clear() {
  urls.splice(0).forEach((u) => URL.revokeObjectURL(u));
  for (const item of data.items) {
    slot(item)?.replaceChildren(el("p", { className: "sealed", textContent: t.sealed }));
    slot(item)?.closest(".item")?.classList.remove("opened");
  }
}

const keyring = new Keyring({
  idleMs: Number(root.dataset.idleMs || 15 * 60 * 1000),
  onForget: (reason) => {
    clear();
    status.textContent = reason === "idle" ? t.js_idle : t.js_closed;
  },
});

// Camera clips are animated WebP (an <img> plays them); room scans are camera pictures.
const IMAGE = {
  screenshot: "image/png", webcam_frame: "image/jpeg", webcam_clip: "image/webp", room_scan: "image/jpeg",
  id_photo: "image/jpeg", reference_photo: "image/jpeg",
};
const ALT = { screenshot: t.js_alt_screenshot, webcam_frame: t.js_alt_camera, webcam_clip: t.js_alt_camera, room_scan: t.js_alt_camera };
const FILE_TYPE = { audio_clip: "audio/wav" };
const EXTENSION = { audio_clip: "wav", handin_file: "bin" };

function blobUrl(bytes, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  urls.push(url);
  return url;
}

function json(bytes) {
  try {
    const doc = JSON.parse(new TextDecoder().decode(bytes));
    return doc && typeof doc === "object" ? doc : null;
  } catch {
    return null;
  }
}

function text(bytes) {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null; // not text: offered as a file to save
  }
}

/** A table with a caption and translated column headings; cells are text, never HTML. */
function table(caption, columns, rows) {
  const head = el("tr", {}, ...columns.map(([, label]) => el("th", { scope: "col", textContent: label })));
  const body = rows.map((row) => el("tr", {}, ...columns.map(([key]) => el("td", { textContent: row[key] ?? "" }))));
  return el("div", { className: "table-wrap" }, el("table", {}, el("caption", { textContent: caption }), el("thead", {}, head), el("tbody", {}, ...body)));
}

// The exam's wall-clock time, as on the rest of the page: 2026-11-22 14:05:33 (Sweden writes ISO dates).
const wallClock = new Intl.DateTimeFormat("sv-SE", { timeZone: data.timezone || "UTC", dateStyle: "short", timeStyle: "medium" });
function localTime(value) {
  const at = new Date(String(value ?? ""));
  return Number.isNaN(at.getTime()) ? String(value ?? "") : wallClock.format(at);
}

function processTable(item, doc) {
  const procs = Array.isArray(doc?.processes) ? doc.processes : [];
  const columns = [["name", t.js_col_program], ["pid", t.js_col_pid], ["cpu", t.js_col_cpu]];
  if (procs.some((p) => p.path || p.exe)) columns.push(["path", t.js_col_path]);
  const rows = procs
    .map((p) => ({ name: p.name ?? "", pid: p.pid ?? "", cpu: p.cpu ?? "", path: p.path ?? p.exe ?? "" }))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)));
  if (!rows.length) return el("p", { textContent: t.js_none_recorded });
  return table(say(t.js_programs, { n: rows.length, time: item.time }), columns, rows);
}

function visitsTable(item, doc) {
  const visits = Array.isArray(doc?.visits) ? doc.visits : [];
  const rows = visits.map((v) => ({ at: localTime(v.at), title: v.title ?? "", url: v.url ?? "" }));
  if (!rows.length) return el("p", { textContent: t.js_none_recorded });
  return table(say(t.js_visits, { n: rows.length, time: item.time }), [["at", t.js_col_visited], ["title", t.js_col_page], ["url", t.js_col_address]], rows);
}

function saveLink(item, bytes, type = "application/octet-stream") {
  const name = `${item.kind}-${item.client_id}.${EXTENSION[item.kind] ?? "bin"}`;
  return el("a", { className: "button secondary", href: blobUrl(bytes, type), download: name, textContent: t.js_save });
}

/** What one opened item looks like on the page. */
function render(item, plaintext) {
  if (IMAGE[item.kind]) {
    const alt = say(ALT[item.kind] ?? t.js_alt_photo, { time: item.time });
    return [el("img", { src: blobUrl(plaintext, IMAGE[item.kind]), alt })];
  }
  if (item.kind === "audio_clip") {
    const url = blobUrl(plaintext, FILE_TYPE.audio_clip);
    return [el("audio", { controls: true, src: url }), saveLink(item, plaintext, FILE_TYPE.audio_clip)];
  }
  if (item.kind === "process_snapshot") return [processTable(item, json(plaintext))];
  if (item.kind === "browser_history") return [visitsTable(item, json(plaintext))];
  if (item.kind === "handin_backup") {
    const doc = json(plaintext);
    const body = doc && typeof doc.text === "string" ? doc.text : text(plaintext);
    return [el("p", { className: "file", textContent: doc?.file ?? "" }), el("pre", { textContent: (body ?? "").slice(0, 20000) })];
  }
  if (FILE_TYPE[item.kind]) return [saveLink(item, plaintext, FILE_TYPE[item.kind])];
  const body = text(plaintext);
  const parts = [saveLink(item, plaintext)];
  if (body !== null) parts.unshift(el("p", { textContent: t.js_text_preview }), el("pre", { textContent: body.slice(0, 20000) }));
  return parts;
}

async function openAll(key) {
  if (data.kid && data.kid !== key.kid) throw new InvigilCryptoError(t.js_another_receipt);
  clear();
  let opened = 0;
  for (const item of data.items) {
    const target = slot(item);
    try {
      const r = await fetch(`/api/v1/portal/${encodeURIComponent(data.token)}/items/${encodeURIComponent(item.id)}`);
      if (!r.ok) throw new Error(String(r.status));
      const expected = { exam: data.exam, session: data.session, item: item.client_id, kind: item.kind };
      const { plaintext } = await openEnvelope(new Uint8Array(await r.arrayBuffer()), key, expected);
      if (!keyring.has("candidate")) return; // closed while opening: show nothing more
      target.replaceChildren(...render(item, plaintext));
      target.closest(".item").classList.add("opened");
      opened += 1;
    } catch {
      target.replaceChildren(el("p", { className: "gone", textContent: t.js_item_failed }));
    }
    keyring.touch();
  }
  status.textContent = say(t.js_opened, { n: opened, total: data.items.length });
}

/** The crypto module's messages are English; say the same in the page's language. */
function explain(err) {
  if (err instanceof BadSecret) {
    const m = err.message;
    if (/typo/.test(m)) return t.js_typo;
    const length = m.match(/this one has (\d+)/);
    if (length) return say(t.js_length, { n: length[1] });
    const chars = m.match(/never contains (.+)\.$/);
    if (chars) return say(t.js_bad_chars, { chars: chars[1] });
    return t.js_not_secret;
  }
  if (err instanceof InvigilCryptoError) return err.message;
  return say(t.js_failed, { error: String(err) });
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const field = form.elements.namedItem("secret");
  status.textContent = t.js_opening;
  try {
    const key = await privateKeyFromSecret(field.value);
    field.value = "";
    keyring.add("candidate", key);
    await openAll(key);
  } catch (err) {
    keyring.logout();
    status.textContent = explain(err);
  }
});
form.querySelector("button[type=submit]").disabled = false; // disabled until this handler exists

document.getElementById("close").addEventListener("click", () => {
  if (keyring.size) keyring.logout();
  else clear();
});
