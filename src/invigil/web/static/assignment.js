// The assignment page's "Seal and upload" (templates/admin_assignment.html, ADR 0023): the files are
// read and sealed here with the exam PIN (pinseal.js), and only the sealed bytes go to
// PUT /api/v1/staff/exams/{id}/assignment-set with the login cookie and the CSRF header (ADR 0015).
import { toHex } from "./invigil-crypto.js";
import { checkPinStrength, forget, generatePin, newKey, normalizePin, sealFile, WeakPin } from "./pinseal.js";

const form = document.getElementById("seal-form");
const $ = (id) => document.getElementById(id);
const status = $("seal-status"), progress = $("seal-progress"), result = $("seal-result");
const say = (text, problem = false) => {
  status.textContent = text;
  status.classList.toggle("error", problem);
};
const memory = (kib) => (kib >= 1024 ? `${Math.floor(kib / 1024)} MiB` : `${kib} KiB`);

class Refused extends Error {}

/** The files' names as candidates will see them; Refused names what would clash. */
function namesOf(files) {
  const seen = new Map();
  for (const file of files) {
    const name = file.name.normalize("NFC");
    const key = name.toLowerCase().normalize("NFC");
    if (seen.has(key)) {
      throw new Refused(`'${seen.get(key)}' and '${name}' would be the same file on the candidates' computers; rename one of them.`);
    }
    seen.set(key, name);
  }
  if (!seen.size) throw new Refused("Choose at least one file.");
  return [...seen.values()];
}

function checkPins() {
  const pin = $("pin").value, again = $("pin-again").value;
  const raw = checkPinStrength(pin); // WeakPin says why
  let rawAgain = null;
  try { rawAgain = normalizePin(again); } catch { /* not a PIN at all: they differ */ }
  if (raw !== rawAgain) throw new WeakPin("The two PINs differ: type the same PIN twice.");
  return pin;
}

async function upload(body) {
  const url = `/api/v1/staff/exams/${encodeURIComponent(form.dataset.examId)}/assignment-set`;
  const r = await fetch(url, {
    method: "PUT",
    credentials: "same-origin",
    cache: "no-store",
    headers: {
      Accept: "application/json",
      "Content-Type": "application/octet-stream",
      "Invigil-Sha256": toHex(await crypto.subtle.digest("SHA-256", body)),
      "X-CSRF-Token": form.dataset.csrf,
    },
    body,
  }).catch((exc) => {
    throw new Refused(`The server could not be reached (${exc.message}); nothing was uploaded. Try again.`);
  });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Refused(data.message ?? `The server refused the upload (${r.status}).`);
  return data;
}

function showResult(data) {
  result.replaceChildren();
  const head = document.createElement("p");
  head.textContent = `Assignment ${data.status}, version ${data.version}: sealed with argon2id `
    + `${memory(data.kdf.memory_kib)} × ${data.kdf.iterations} passes. The server holds ciphertext only; `
    + "without the PIN nobody can open it, Invigil included.";
  const list = document.createElement("ul");
  for (const f of data.files) {
    const li = document.createElement("li");
    li.textContent = `${f.name}: ${f.size} bytes sealed, SHA-256 ${f.sha256.slice(0, 16)}…`;
    list.append(li);
  }
  result.append(head, list);
  result.hidden = false;
}

$("generate-pin").addEventListener("click", () => {
  const pin = generatePin();
  $("pin").value = pin;
  $("pin-again").value = pin;
  $("pin-note").hidden = false;
  $("pin").focus();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = form.querySelector("button[type=submit]");
  const files = [...$("assignment-files").files];
  let key = null;
  result.hidden = true;
  try {
    const names = namesOf(files);
    const limit = Number(form.dataset.maxBytes);
    const tooLarge = (size) => new Refused(`Sealed, the assignment would be ${Math.ceil(size / 1024)} KiB; the server takes at most `
      + `${Math.floor(limit / 1024)} KiB (INVIGIL_MAX_REQUEST_BYTES). Make the files smaller, for example by compressing the PDFs.`);
    const plain = files.reduce((n, f) => n + f.size, 0);
    if (plain > limit) throw tooLarge(plain); // before reading anything or deriving the key
    const pin = checkPins();
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    const kdf = JSON.parse(form.dataset.kdf);
    say(`Deriving the key from the PIN (argon2id, ${memory(kdf.memory_kib)}): this takes a few seconds…`);
    key = await newKey(pin, form.dataset.examId, kdf, (done, total) => { progress.value = Math.round((90 * done) / total); });
    const sealed = [];
    for (const [i, file] of files.entries()) {
      say(`Sealing ${names[i]}…`);
      sealed.push(await sealFile(key, names[i], new Uint8Array(await file.arrayBuffer())));
    }
    const size = sealed.reduce((n, s) => n + s.length, 0);
    if (size > limit) throw tooLarge(size); // the headers and tags tipped it over
    const body = new Uint8Array(size);
    sealed.reduce((at, s) => { body.set(s, at); return at + s.length; }, 0);
    progress.value = 95;
    say("Uploading the sealed files…");
    const data = await upload(body);
    progress.value = 100;
    say(`Uploaded. Announce the PIN in the exam room at the start (${form.dataset.starts}); keep it safe until then.`);
    showResult(data);
  } catch (exc) {
    const known = exc instanceof WeakPin || exc instanceof Refused;
    say(known ? exc.message : `Sealing failed in this browser: ${exc.message}. Nothing was uploaded.`, true);
    progress.hidden = true;
    status.focus();
  } finally {
    if (key) forget(key);
    button.disabled = false;
  }
});
form.querySelector("button[type=submit]").disabled = false; // disabled until this handler exists
