// The staff side of "evidence is decrypted only in the browser" (ADR 0015). A page that shows
// evidence (the board's candidate panel, the review workspace) makes one StaffKeys: the person
// unlocks their key once on that page with the passphrase the server never sees; the exam's key is
// opened from their grant; sealed items are fetched and opened here. Everything lives in one
// Keyring in this document's memory and is forgotten on logout, when idle, or when the page is left.
import {
  InvigilCryptoError, Keyring, openEnvelope, openGrant, staffKeyAad, unwrapPrivateKey,
} from "./invigil-crypto.js";

export class KeyLocked extends InvigilCryptoError {
  constructor() { super("Unlock your key first: evidence opens only in this browser, with your passphrase."); }
}

export class NoGrant extends InvigilCryptoError {}

const json = async (url) => {
  const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
  if (!r.ok) throw new InvigilCryptoError((await r.json().catch(() => ({}))).message ?? `The server answered ${r.status}.`);
  return r.json();
};

export class StaffKeys {
  #examKeys = new Map(); // exam id -> Map(kid -> key pair), inside the keyring's lifetime
  #forgotten = new Set(); // callbacks for "the key was forgotten" (idle, lock, logout)

  /** @param {{staffId: string, idleMs: number, onForget?: (reason: string) => void}} options */
  constructor({ staffId, idleMs, onForget = null }) {
    this.staffId = staffId;
    if (onForget) this.#forgotten.add(onForget);
    this.keyring = new Keyring({
      idleMs,
      onForget: (reason) => {
        this.#examKeys.clear();
        for (const callback of this.#forgotten) callback(reason);
      },
    });
    window.addEventListener("pagehide", () => this.lock());
    document.getElementById("logout-form")?.addEventListener("submit", () => this.lock());
  }

  get unlocked() { return this.keyring.has("staff"); }

  lock() { this.keyring.logout(); }

  /** Also call `callback(reason)` whenever the key is forgotten ("idle" or "logout"). */
  whenForgotten(callback) { this.#forgotten.add(callback); }

  /** Unwrap the person's key with their passphrase; returns its key id. */
  async unlock(passphrase) {
    const wrapped = await json("/account/key");
    const pair = await unwrapPrivateKey(wrapped.wrapped, passphrase, staffKeyAad(this.staffId, wrapped.kid), wrapped.kid);
    this.keyring.add("staff", pair);
    return pair.kid;
  }

  /** The exam's key pairs this person holds a grant for (opened once per page). */
  async examKeys(examId) {
    const staff = this.keyring.get("staff");
    if (!staff) throw new KeyLocked();
    if (!this.#examKeys.has(examId)) {
      const listing = await json(`/api/v1/staff/exams/${encodeURIComponent(examId)}/keys`);
      const opened = new Map();
      for (const k of listing.keys) {
        if (k.sealed) opened.set(k.kid, await openGrant(k.sealed, staff, examId, k.kid));
      }
      if (!opened.size) throw new NoGrant("You hold no key for this exam yet: ask its coordinator to grant you access.");
      this.#examKeys.set(examId, opened);
    }
    this.keyring.touch();
    return this.#examKeys.get(examId);
  }

  /** Fetch a sealed item and open it; checks it belongs to this exam, session, item and kind.
   * `item` is an entry of GET /api/v1/staff/sessions/{id}/evidence; those entries do not repeat the
   * session id (it is the listing's `session_id`), so pass it as `sessionId` unless the item has it. */
  async open(examId, item, sessionId = item.session_id) {
    if (!sessionId) throw new InvigilCryptoError("Which candidate's session is this item from? Pass the listing's session_id.");
    const keys = await this.examKeys(examId);
    const r = await fetch(`/api/v1/staff/evidence/${encodeURIComponent(item.id)}`, { credentials: "same-origin", cache: "no-store" });
    if (!r.ok) throw new InvigilCryptoError((await r.json().catch(() => ({}))).message ?? `The server answered ${r.status}.`);
    const data = new Uint8Array(await r.arrayBuffer());
    const expected = { exam: examId, session: sessionId, item: item.client_id, kind: item.kind };
    let last = null;
    for (const key of keys.values()) {
      try {
        return (await openEnvelope(data, key, expected)).plaintext;
      } catch (err) {
        last = err; // another generation of the exam's key may be the recipient
      }
    }
    throw last ?? new NoGrant("None of your keys for this exam opens this item.");
  }
}

// Webcam clips are animated WebP (agent/sources/real/webcam.py): an <img> plays them.
const IMAGE_TYPES = {
  screenshot: "image/png", webcam_frame: "image/jpeg", webcam_clip: "image/webp", id_photo: "image/jpeg",
  reference_photo: "image/jpeg", room_scan: "image/jpeg",
};

/** An element showing an opened item: a picture for images, readable text otherwise. The caller
 * revokes `urls` when it clears the view. */
export function render(item, plaintext, urls) {
  const type = IMAGE_TYPES[item.kind];
  if (type) {
    const url = URL.createObjectURL(new Blob([plaintext], { type }));
    urls.push(url);
    const img = document.createElement("img");
    img.src = url;
    img.alt = `${item.kind.replace("_", " ")} captured ${item.captured_at}`;
    return img;
  }
  const pre = document.createElement("pre");
  const text = new TextDecoder().decode(plaintext);
  try {
    pre.textContent = JSON.stringify(JSON.parse(text), null, 2).slice(0, 50000);
  } catch {
    pre.textContent = text.slice(0, 50000);
  }
  return pre;
}

/** Wire an unlock form (templates/_unlock_panel.html) to `keys`; calls `onUnlocked()` after. */
export function unlockPanel(keys, onUnlocked = () => {}) {
  const form = document.getElementById("unlock-form");
  const status = document.getElementById("key-status");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = form.elements.namedItem("passphrase");
    status.textContent = "Unlocking…";
    try {
      const kid = await keys.unlock(field.value);
      status.textContent = `Your key (${kid.slice(0, 12)}…) is unlocked on this page only.`;
      form.hidden = true;
      document.getElementById("lock")?.removeAttribute("hidden");
      await onUnlocked();
    } catch (err) {
      status.textContent = err?.name === "WrongPassphrase"
        ? "That passphrase does not unlock your key. Check it and try again."
        : `Could not unlock your key: ${err.message ?? err}`;
    } finally {
      field.value = "";
    }
  });
  form.querySelector("button[type=submit]").disabled = false; // disabled until this handler exists
  const lock = document.getElementById("lock");
  keys.whenForgotten((reason) => { // locked by the button, after the idle time, or on logout
    if (lock) lock.hidden = true;
    form.hidden = false;
    status.textContent = reason === "idle"
      ? "Your key was locked again after a while without use. Unlock it to continue."
      : "Locked.";
  });
  lock?.addEventListener("click", () => keys.lock());
}
