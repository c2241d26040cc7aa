// pinseal.js: the assignment sealed with the exam PIN in the coordinator's browser, byte for byte the
// format of src/invigil/kit/pinseal.py (ADR 0007; ADR 0023 for why the browser may do it). The PIN
// and the plaintext never leave this page; the server receives the sealed files only.
//
//   master   = argon2id(normalized PIN, salt, kdf)                       (argon2.js)
//   check    = HKDF-SHA256(master, info = "invigil/v1/assignment-check\0" exam)[:16]
//   file key = HKDF-SHA256(master, salt = file_salt, info = "invigil/v1/assignment-file\0" exam "\0" name)
//   file     = "INVGASG1" | u32 header length | canonical JSON header | AES-256-GCM chunks
//
// The PIN rules mirror src/invigil/kit/pin.py; tests/browser/test_assignment_page.py holds the two
// to the same answers.
import { argon2id } from "./argon2.js";
import { b64encode, canonicalJson, concat } from "./invigil-crypto.js";

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();

// ---- the PIN (kit/pin.py) -------------------------------------------------------------------------
export const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford base32, as activation codes
const DIGITS = "0123456789";
const CONFUSABLE = { O: "0", I: "1", L: "1", U: "V" };
const MIN_BITS = 39.5, MAX_LENGTH = 64;

export class WeakPin extends Error {
  constructor(message) { super(message); this.name = "WeakPin"; }
}

/** What is fed to the KDF: upper case, no spaces or dashes, look-alike letters mapped. */
export function normalizePin(pin) {
  const raw = [...pin.toUpperCase()].filter((c) => !" -\t\r\n".includes(c)).map((c) => CONFUSABLE[c] ?? c).join("");
  if (!raw) throw new WeakPin("The PIN is empty.");
  if (raw.length > MAX_LENGTH) throw new WeakPin(`The PIN is longer than ${MAX_LENGTH} characters.`);
  const bad = [...new Set(raw)].filter((c) => !ALPHABET.includes(c)).sort();
  if (bad.length) {
    throw new WeakPin(`The PIN may only use letters and digits (it contains ${bad.slice(0, 5).map((c) => `'${c}'`).join(" ")}).`);
  }
  return raw;
}

const allDigits = (raw) => [...raw].every((c) => DIGITS.includes(c));
const repeats = (raw) => {
  for (let n = 1; n <= raw.length / 2; n++) {
    if (raw.length % n === 0 && raw.slice(0, n).repeat(raw.length / n) === raw) return true;
  }
  return false;
};
const isRun = (raw) => {
  const alphabet = allDigits(raw) ? DIGITS : ALPHABET;
  const steps = new Set();
  for (let i = 1; i < raw.length; i++) {
    steps.add((alphabet.indexOf(raw[i]) - alphabet.indexOf(raw[i - 1]) + alphabet.length) % alphabet.length);
  }
  return steps.size === 1;
};

/** The normalized PIN, or WeakPin saying why it is refused (the same words as the CLI). */
export function checkPinStrength(pin) {
  const raw = normalizePin(pin);
  const bits = raw.length * Math.log2(allDigits(raw) ? 10 : ALPHABET.length);
  if (bits < MIN_BITS) {
    throw new WeakPin("This PIN is too weak: it could be guessed offline before the exam starts. Use at least "
      + "8 letters and digits or 12 digits (about 40 bits), or let Invigil generate one.");
  }
  if (new Set(raw).size < 5 || repeats(raw) || isRun(raw)) {
    throw new WeakPin("This PIN follows a pattern (repeated or consecutive characters) that guessers try first. "
      + "Choose a random one, or let Invigil generate one.");
  }
  return raw;
}

/** A random PIN of 8 symbols (40 bits), as ABCD-EFGH. 256 is a multiple of 32: no bias. */
export function generatePin() {
  for (;;) {
    const symbols = [...crypto.getRandomValues(new Uint8Array(8))].map((b) => ALPHABET[b & 31]).join("");
    if (new Set(symbols).size >= 5 && !isRun(symbols)) return `${symbols.slice(0, 4)}-${symbols.slice(4)}`;
  }
}

// ---- sealing (kit/pinseal.py, kit/framing.py) ------------------------------------------------------
const MAGIC = utf8.encode("INVGASG1");
const SUITE = "argon2id/HKDF-SHA256/AES-256-GCM";
const ARGON2_VERSION = 19;
const CHUNK = 64 * 1024;
const TAG = 16;

async function hkdf(master, salt, info, length) {
  const key = await subtle.importKey("raw", master, "HKDF", false, ["deriveBits"]);
  return new Uint8Array(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, length * 8));
}
const NUL = Uint8Array.of(0);
const random = (n) => crypto.getRandomValues(new Uint8Array(n));

/**
 * The key for one exam, derived from the PIN (refused if weak) with a fresh salt: the memory-hard
 * step, seconds at 64 MiB. ``kdf`` = {memory_kib, iterations, parallelism}, as the server asks.
 */
export async function newKey(pin, examId, kdf, onProgress) {
  const raw = checkPinStrength(pin);
  const salt = random(16);
  const master = await argon2id(utf8.encode(raw), salt, {
    memoryKib: kdf.memory_kib, iterations: kdf.iterations, parallelism: kdf.parallelism, hashLength: 32,
  }, onProgress);
  const check = await hkdf(master, new Uint8Array(32), concat(utf8.encode("invigil/v1/assignment-check"), NUL, utf8.encode(examId)), 16);
  return { examId, kdf, salt, master, check };
}

/** One file sealed as ``name`` of the key's exam: the same bytes pinseal.seal_stream writes. */
export async function sealFile(key, name, data) {
  const fileSalt = random(16);
  const header = {
    v: 1, suite: SUITE, exam: key.examId, name, size: data.length, chunk: CHUNK,
    file_salt: b64encode(fileSalt),
    kdf: { alg: "argon2id", version: ARGON2_VERSION, ...key.kdf, salt: b64encode(key.salt) },
    check: b64encode(key.check),
  };
  const body = utf8.encode(canonicalJson(header));
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, body.length);
  const prefix = concat(MAGIC, length, body);
  const aad = new Uint8Array(await subtle.digest("SHA-256", prefix));
  const info = concat(utf8.encode("invigil/v1/assignment-file"), NUL, utf8.encode(key.examId), NUL, utf8.encode(name));
  const fileKey = await subtle.importKey("raw", await hkdf(key.master, fileSalt, info, 32), "AES-GCM", false, ["encrypt"]);
  const count = Math.max(1, Math.ceil(data.length / CHUNK));
  const out = new Uint8Array(prefix.length + data.length + TAG * count);
  out.set(prefix);
  let at = prefix.length;
  for (let i = 0; i < count; i++) {
    const iv = new Uint8Array(12); // the chunk's index as 11 big-endian bytes, then the last-chunk flag
    new DataView(iv.buffer).setUint32(7, i);
    iv[11] = i === count - 1 ? 1 : 0;
    const part = data.subarray(i * CHUNK, Math.min(data.length, (i + 1) * CHUNK));
    const sealed = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, fileKey, part));
    out.set(sealed, at);
    at += sealed.length;
  }
  return out;
}

/** Forget the derived key: the master secret is overwritten once the files are sealed. */
export function forget(key) {
  key.master.fill(0);
}
