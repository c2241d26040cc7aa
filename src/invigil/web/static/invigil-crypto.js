// invigil-crypto.js: the browser half of key custody (DESIGN.md §5). An ES module with no build
// step and no dependencies: WebCrypto only (X25519, HMAC-SHA-256, AES-GCM, PBKDF2, SHA-256).
//
// It opens what Python seals (src/invigil/kit/envelope.py, keywrap.py, candidate_secret.py and
// exams/service.py's exam_key_info), byte for byte:
//   - HPKE, RFC 9180 base mode, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM;
//   - sealed evidence envelopes (chunked AES-256-GCM under an HPKE-sealed data key);
//   - staff private keys wrapped with PBKDF2-HMAC-SHA512 + AES-256-GCM;
//   - exam private keys granted (HPKE-sealed) to a key holder, and re-granted from the browser;
//   - the candidate's receipt secret (Crockford base32 with a 4-bit check).
// Private keys live only as non-extractable CryptoKeys in memory (see Keyring); raw private bytes
// exist only for the moment of import or re-sealing and are overwritten right after.

const subtle = globalThis.crypto.subtle;
const utf8 = new TextEncoder();

// ---- errors: the message says what is wrong, the class says which kind ---------------------------
export class InvigilCryptoError extends Error {
  constructor(message) { super(message); this.name = new.target.name; }
}
export class NotAnEnvelope extends InvigilCryptoError {}
export class WrongContext extends InvigilCryptoError {}
export class NotARecipient extends InvigilCryptoError {}
export class TamperedEnvelope extends InvigilCryptoError {}
export class WrongPassphrase extends InvigilCryptoError {}
export class KeyFileError extends InvigilCryptoError {}
export class GrantError extends InvigilCryptoError {}
export class BadSecret extends InvigilCryptoError {}

// ---- bytes -----------------------------------------------------------------------------------------
const bytes = (x) => (x instanceof Uint8Array ? x : new Uint8Array(x));
export const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};
const i2osp = (n, len) => { // big-endian, for counters below 2**53
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0 && n > 0; i--, n = Math.floor(n / 256)) out[i] = n % 256;
  return out;
};
const equal = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
export const toHex = (b) => Array.from(bytes(b), (v) => v.toString(16).padStart(2, "0")).join("");
export const fromHex = (h) => new Uint8Array(h.match(/../g)?.map((x) => parseInt(x, 16)) ?? []);
export const b64encode = (b) => btoa(Array.from(bytes(b), (v) => String.fromCharCode(v)).join(""));
export function b64decode(text) { // strict, like Python's b64decode(validate=True)
  if (typeof text !== "string" || text.length % 4 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) {
    throw new TypeError("not valid base64");
  }
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}
const sha256 = async (data) => new Uint8Array(await subtle.digest("SHA-256", data));

// The same canonical JSON as Python's json.dumps(sort_keys=True, separators=(",", ":"),
// ensure_ascii=True): sorted keys, no spaces, everything outside ASCII 0x20-0x7e as \uXXXX.
const jsonString = (s) => JSON.stringify(s).replace(/[\u007f-\uffff]/g,
  (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
export function canonicalJson(v) {
  if (Array.isArray(v)) return "[" + v.map(canonicalJson).join(",") + "]";
  if (v !== null && typeof v === "object") {
    return "{" + Object.keys(v).sort().map((k) => jsonString(k) + ":" + canonicalJson(v[k])).join(",") + "}";
  }
  return typeof v === "string" ? jsonString(v) : JSON.stringify(v);
}

// ---- X25519 keys -------------------------------------------------------------------------------------
// WebCrypto imports X25519 private keys only as PKCS#8: this fixed 16-byte header + the raw 32 bytes.
const PKCS8_X25519 = fromHex("302e020100300506032b656e04220420");
const BASEPOINT = Uint8Array.from({ length: 32 }, (_, i) => (i === 0 ? 9 : 0)); // u = 9, little-endian

/** A short, stable name for a public key: hex of the first 16 bytes of its SHA-256. */
export const keyId = async (publicKey) => toHex((await sha256(bytes(publicKey))).subarray(0, 16));
const importPublic = (raw) => subtle.importKey("raw", bytes(raw), { name: "X25519" }, true, []);
const dh = async (privateKey, publicRaw) => {
  const shared = new Uint8Array(await subtle.deriveBits(
    { name: "X25519", public: await importPublic(publicRaw) }, privateKey, 256));
  if (shared.every((v) => v === 0)) throw new InvigilCryptoError("X25519 produced the all-zero secret");
  return shared;
};

/** Import raw private bytes as a non-extractable key pair {privateKey, publicKey, kid}; wipes `raw`.
 * WebCrypto cannot export the public half of a non-extractable key, so it is computed as
 * X25519(private, basepoint). */
export async function importPrivateKey(raw) {
  const pkcs8 = concat(PKCS8_X25519, raw);
  try {
    if (raw.length !== 32) throw new KeyFileError("an X25519 private key has 32 bytes");
    const privateKey = await subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, false, ["deriveBits"]);
    const publicKey = await dh(privateKey, BASEPOINT);
    return Object.freeze({ privateKey, publicKey, kid: await keyId(publicKey) });
  } finally {
    raw.fill(0);
    pkcs8.fill(0);
  }
}

// ---- HPKE (RFC 9180), base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-GCM -------------------
const KEM_ID = 0x0020, KDF_ID = 0x0001;
export const AEAD_AES_128_GCM = 0x0001, AEAD_AES_256_GCM = 0x0002; // Nk = 16 or 32
const KEM_SUITE = concat(utf8.encode("KEM"), i2osp(KEM_ID, 2));
const hmac = async (key, data) => {
  const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", k, data));
};
const extract = (salt, ikm) => hmac(salt.length ? salt : new Uint8Array(32), ikm); // RFC 5869
async function expand(prk, info, length) {
  let t = new Uint8Array(0), out = new Uint8Array(0);
  for (let i = 1; out.length < length; i++) {
    t = await hmac(prk, concat(t, info, Uint8Array.of(i)));
    out = concat(out, t);
  }
  return out.subarray(0, length);
}
const V1 = utf8.encode("HPKE-v1");
const labeledExtract = (suite, salt, label, ikm) => extract(salt, concat(V1, suite, utf8.encode(label), ikm));
const labeledExpand = (suite, prk, label, info, length) =>
  expand(prk, concat(i2osp(length, 2), V1, suite, utf8.encode(label), info), length);
const NONE = new Uint8Array(0);

async function kemSharedSecret(dhBytes, enc, pkR) { // ExtractAndExpand(dh, enc || pkR)
  const prk = await labeledExtract(KEM_SUITE, NONE, "eae_prk", dhBytes);
  dhBytes.fill(0); // intermediate secrets are overwritten once used (best effort in JavaScript)
  return labeledExpand(KEM_SUITE, prk, "shared_secret", concat(enc, pkR), 32);
}

/** KeySchedule for mode_base: an encryption context with the RFC's sequence number `seq`.
 * `seq` is a plain property so the test vectors can check the encryptions they list. */
async function keySchedule(sharedSecret, info, aeadId) {
  const suite = concat(utf8.encode("HPKE"), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(aeadId, 2));
  const context = concat(Uint8Array.of(0), await labeledExtract(suite, NONE, "psk_id_hash", NONE),
    await labeledExtract(suite, NONE, "info_hash", bytes(info)));
  const secret = await labeledExtract(suite, sharedSecret, "secret", NONE);
  sharedSecret.fill(0);
  const nk = { [AEAD_AES_128_GCM]: 16, [AEAD_AES_256_GCM]: 32 }[aeadId];
  if (!nk) throw new InvigilCryptoError(`unsupported HPKE AEAD ${aeadId}`);
  const rawKey = await labeledExpand(suite, secret, "key", context, nk);
  const key = await subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
  rawKey.fill(0);
  const baseNonce = await labeledExpand(suite, secret, "base_nonce", context, 12);
  secret.fill(0);
  const nonce = (seq) => { const s = i2osp(seq, 12); return baseNonce.map((v, i) => v ^ s[i]); };
  return {
    seq: 0,
    async seal(plaintext, aad = NONE) {
      const p = { name: "AES-GCM", iv: nonce(this.seq), additionalData: bytes(aad) };
      const out = new Uint8Array(await subtle.encrypt(p, key, bytes(plaintext)));
      this.seq += 1;
      return out;
    },
    async open(ciphertext, aad = NONE) { // throws OperationError if it does not authenticate
      const p = { name: "AES-GCM", iv: nonce(this.seq), additionalData: bytes(aad) };
      const out = new Uint8Array(await subtle.decrypt(p, key, bytes(ciphertext)));
      this.seq += 1;
      return out;
    },
  };
}

/** SetupBaseR: `recipient` is a key pair from importPrivateKey (or a {privateKey, publicKey}). */
export async function setupBaseR(enc, recipient, info, aeadId = AEAD_AES_256_GCM) {
  enc = bytes(enc);
  const shared = await kemSharedSecret(await dh(recipient.privateKey, enc), enc, recipient.publicKey);
  return keySchedule(shared, info, aeadId);
}

/** SetupBaseS: returns {enc, context}. `testOnlyEphemeral` (raw private bytes) exists for the RFC
 * 9180 test vectors alone; everything else gets a fresh ephemeral key that never leaves WebCrypto. */
export async function setupBaseS(recipientPublic, info, { aeadId = AEAD_AES_256_GCM, testOnlyEphemeral } = {}) {
  const pkR = bytes(recipientPublic);
  let eph;
  if (testOnlyEphemeral) {
    eph = await importPrivateKey(Uint8Array.from(testOnlyEphemeral));
  } else {
    const pair = await subtle.generateKey({ name: "X25519" }, false, ["deriveBits"]);
    eph = { privateKey: pair.privateKey, publicKey: new Uint8Array(await subtle.exportKey("raw", pair.publicKey)) };
  }
  const shared = await kemSharedSecret(await dh(eph.privateKey, pkR), eph.publicKey, pkR);
  return { enc: eph.publicKey, context: await keySchedule(shared, info, aeadId) };
}

/** Single-shot seal, as Python's Suite.encrypt(pt, pk, info=info): enc || ciphertext. */
export async function hpkeSeal(plaintext, recipientPublic, info) {
  const { enc, context } = await setupBaseS(recipientPublic, info);
  return concat(enc, await context.seal(plaintext));
}

/** Single-shot open of enc || ciphertext; throws OperationError when it does not open. */
export async function hpkeOpen(sealed, recipient, info) {
  sealed = bytes(sealed);
  if (sealed.length < 32 + 16) throw new InvigilCryptoError("sealed data is too short");
  const context = await setupBaseR(sealed.subarray(0, 32), recipient, info);
  return context.open(sealed.subarray(32));
}

// ---- sealed evidence envelopes (kit/envelope.py) ----------------------------------------------------
const MAGIC = "INVGENV1", SUITE_NAME = "DHKEM(X25519,HKDF-SHA256)/HKDF-SHA256/AES-256-GCM";
const MAX_HEADER = 64 * 1024, MAX_RECIPIENTS = 32, SEALED_KEY_LEN = 80, TAG = 16;
const CONTEXT_FIELDS = ["exam", "session", "item", "kind"];
const dataKeyInfo = (ctx) => concat(utf8.encode("invigil/v1/data-key\0"), utf8.encode(canonicalJson(ctx)));
const chunkNonce = (index, last) => concat(i2osp(index, 11), Uint8Array.of(last ? 1 : 0));

/** Parse and check the prefix (magic | u32 length | canonical JSON header), like read_header. */
export function readHeader(data) {
  data = bytes(data);
  if (data.length < 12) throw new NotAnEnvelope("too short to be a sealed envelope");
  if (new TextDecoder().decode(data.subarray(0, 8)) !== MAGIC) {
    throw new NotAnEnvelope("not a sealed Invigil envelope (wrong magic bytes): evidence must be sealed");
  }
  const length = new DataView(data.buffer, data.byteOffset + 8, 4).getUint32(0);
  if (!(length > 0 && length <= MAX_HEADER)) throw new NotAnEnvelope(`envelope header length ${length} is out of range`);
  if (data.length < 12 + length) throw new NotAnEnvelope("envelope header is truncated");
  const body = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let doc, context, recipients;
  try {
    doc = JSON.parse(body.decode(data.subarray(12, 12 + length)));
    context = Object.fromEntries(CONTEXT_FIELDS.map((k) => {
      if (!(k in doc.ctx)) throw new TypeError(`no ${k}`);
      return [k, String(doc.ctx[k])];
    }));
    recipients = new Map(doc.recipients.map((r) => [String(r.kid), b64decode(r.sealed)]));
    if (!Number.isSafeInteger(doc.chunk) || !Number.isSafeInteger(doc.size)) throw new TypeError("not integers");
  } catch (e) {
    throw new NotAnEnvelope(`envelope header is malformed (${e.name})`);
  }
  if (doc.v !== 1 || doc.suite !== SUITE_NAME) throw new NotAnEnvelope(`unsupported envelope version/suite ${doc.v}/${doc.suite}`);
  if (doc.chunk < 1024 || doc.chunk > 4 * 1024 * 1024 || doc.size < 0 || doc.size > 2 ** 40) {
    throw new NotAnEnvelope("envelope chunk size or length is out of range");
  }
  if (recipients.size < 1 || recipients.size > MAX_RECIPIENTS || [...recipients.values()].some((s) => s.length !== SEALED_KEY_LEN)) {
    throw new NotAnEnvelope("envelope recipients are malformed");
  }
  if (!equal(utf8.encode(canonicalJson(doc)), data.subarray(12, 12 + length))) {
    throw new NotAnEnvelope("envelope header is not in canonical form");
  }
  return { context, recipients, chunk: doc.chunk, size: doc.size, prefix: data.subarray(0, 12 + length),
    nChunks: Math.max(1, Math.ceil(doc.size / doc.chunk)) };
}

/** Open an envelope with `key` ({privateKey, publicKey, kid}); optionally insist on the context it
 * must belong to ({exam, session, item, kind}). Returns {context, plaintext}. */
export async function openEnvelope(data, key, expected = null) {
  data = bytes(data);
  const h = readHeader(data);
  if (expected && CONTEXT_FIELDS.some((k) => h.context[k] !== expected[k])) {
    throw new WrongContext(`envelope belongs to ${JSON.stringify(h.context)}, not to ${JSON.stringify(expected)}`);
  }
  const kid = key.kid ?? (await keyId(key.publicKey));
  const sealed = h.recipients.get(kid);
  if (!sealed) throw new NotARecipient(`this key (${kid.slice(0, 12)}…) is not among the envelope's recipients`);
  let dek;
  try {
    const raw = await hpkeOpen(sealed, key, dataKeyInfo(h.context));
    dek = await subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
    raw.fill(0);
  } catch {
    throw new TamperedEnvelope("the sealed key does not open with this key and context");
  }
  const aad = await sha256(h.prefix);
  const out = new Uint8Array(h.size);
  let at = h.prefix.length, done = 0;
  for (let index = 0; index < h.nChunks; index++) {
    const want = Math.min(h.chunk, h.size - done) + TAG;
    if (at + want > data.length) throw new TamperedEnvelope(`envelope is truncated in chunk ${index}`);
    try {
      const iv = chunkNonce(index, index === h.nChunks - 1);
      const plain = await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, dek, data.subarray(at, at + want));
      out.set(new Uint8Array(plain), done);
    } catch {
      throw new TamperedEnvelope(`chunk ${index} fails authentication: the envelope was altered`);
    }
    at += want;
    done += want - TAG;
  }
  if (at !== data.length) throw new TamperedEnvelope("envelope has bytes after its last chunk");
  return { context: h.context, plaintext: out };
}

// ---- wrapped staff private keys (kit/keywrap.py) -----------------------------------------------------
export const staffKeyAad = (staffId, kid) => utf8.encode(`invigil/v1/staff-key\0${staffId}\0${kid}`);
const MAX_ITERATIONS = 10_000_000; // refuses a key file that would hang the page

/** Unwrap {"kdf","iterations","salt","nonce","ciphertext"} with the passphrase (NFC-normalized, as
 * Python does) and `aad`; returns a non-extractable key pair. `expectedKid`, when given, must match. */
export async function unwrapPrivateKey(wrapped, passphrase, aad, expectedKid = null) {
  let salt, nonce, ciphertext, iterations;
  try {
    if (typeof wrapped === "string") wrapped = JSON.parse(wrapped);
    if (wrapped.kdf !== "PBKDF2-HMAC-SHA512") throw new TypeError(`unknown kdf ${wrapped.kdf}`);
    iterations = wrapped.iterations;
    if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new TypeError("bad iterations");
    [salt, nonce, ciphertext] = [wrapped.salt, wrapped.nonce, wrapped.ciphertext].map(b64decode);
  } catch (e) {
    throw new KeyFileError(`wrapped key is malformed: ${e.message}`);
  }
  const secret = await subtle.importKey("raw", utf8.encode(passphrase.normalize("NFC")), "PBKDF2", false, ["deriveKey"]);
  const kek = await subtle.deriveKey({ name: "PBKDF2", hash: "SHA-512", salt, iterations }, secret,
    { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
  let raw;
  try {
    raw = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData: bytes(aad) }, kek, ciphertext));
  } catch {
    throw new WrongPassphrase("wrong passphrase (or the key file was altered)");
  }
  const pair = await importPrivateKey(raw);
  if (expectedKid !== null && pair.kid !== expectedKid) throw new KeyFileError("the key id does not match the unwrapped key");
  return pair;
}

// ---- exam key grants (exams/service.py: exam_key_info) ----------------------------------------------
export const examKeyInfo = (examId, examKid) => utf8.encode(`invigil/v1/exam-key\0${examId}\0${examKid}`);

async function openGrantRaw(sealedB64, holder, examId, examKid) {
  let raw;
  try {
    raw = await hpkeOpen(b64decode(sealedB64), holder, examKeyInfo(examId, examKid));
  } catch {
    throw new GrantError("this grant does not open with your key for this exam (or it was altered)");
  }
  if (raw.length !== 32) throw new GrantError("this grant does not hold an X25519 private key");
  return raw;
}

/** Open an exam key grant sealed to `holder`; returns the exam's non-extractable key pair after
 * checking that its key id is `examKid`. */
export async function openGrant(sealedB64, holder, examId, examKid) {
  const pair = await importPrivateKey(await openGrantRaw(sealedB64, holder, examId, examKid));
  if (pair.kid !== examKid) throw new GrantError(`this grant holds key ${pair.kid.slice(0, 12)}…, not the exam key ${examKid.slice(0, 12)}…`);
  return pair;
}

/** Grant access from the browser: reopen my grant, seal the exam private key to another person's
 * public key (raw 32 bytes, or base64) and return the new grant in base64. The raw key exists only
 * for the moment between opening and sealing. */
export async function regrant(sealedB64, holder, examId, examKid, recipientPublic) {
  const raw = await openGrantRaw(sealedB64, holder, examId, examKid);
  try {
    const check = await importPrivateKey(Uint8Array.from(raw));
    if (check.kid !== examKid) throw new GrantError("this grant does not hold the exam key it names");
    const pk = typeof recipientPublic === "string" ? b64decode(recipientPublic) : bytes(recipientPublic);
    if (pk.length !== 32) throw new GrantError("the recipient's public key must be 32 bytes");
    return b64encode(await hpkeSeal(raw, pk, examKeyInfo(examId, examKid)));
  } finally {
    raw.fill(0);
  }
}

// ---- the candidate's receipt secret (kit/candidate_secret.py) ---------------------------------------
const CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ", SYMBOLS = 52;
const CONFUSABLE = { O: "0", I: "1", L: "1", U: "V" };

/** Read a receipt secret (ignoring case, spaces and dashes, fixing look-alikes) into a
 * non-extractable key pair; the messages are Python's, word for word. */
export async function privateKeyFromSecret(text) {
  if (typeof text !== "string" || [...text].length > 200) throw new BadSecret("That is not a receipt secret.");
  const cleaned = [...text.toUpperCase()].filter((c) => !" -\t\r\n".includes(c)).map((c) => CONFUSABLE[c] ?? c);
  if (cleaned.length !== SYMBOLS) {
    throw new BadSecret(`A receipt secret has ${SYMBOLS} letters and digits; this one has ${cleaned.length}.`);
  }
  const bad = [...new Set(cleaned.filter((c) => !CODE_ALPHABET.includes(c)))].sort((a, b) => a.codePointAt(0) - b.codePointAt(0));
  if (bad.length) throw new BadSecret(`A receipt secret never contains ${bad.map((c) => `'${c}'`).join(", ")}.`);
  let number = 0n;
  for (const c of cleaned) number = (number << 5n) | BigInt(CODE_ALPHABET.indexOf(c));
  const raw = fromHex((number >> 4n).toString(16).padStart(64, "0"));
  if (Number(number & 0xfn) !== (await sha256(raw))[0] >> 4) {
    raw.fill(0);
    throw new BadSecret("The receipt secret has a typo: please compare it with your receipt again.");
  }
  return importPrivateKey(raw);
}

// ---- an in-memory keyring -----------------------------------------------------------------------------
/** Holds unwrapped key pairs in memory only (never localStorage, sessionStorage or IndexedDB) and
 * forgets them all on logout() or after `idleMs` without use (get() and touch() count as use). */
export class Keyring {
  #keys = new Map();
  #timer = null;
  #idleMs;
  #onForget;

  constructor({ idleMs = 15 * 60 * 1000, onForget = null } = {}) {
    this.#idleMs = idleMs;
    this.#onForget = onForget;
  }

  add(name, pair) {
    if (!(pair?.privateKey instanceof CryptoKey) || pair.privateKey.extractable) {
      throw new TypeError("the keyring holds only non-extractable keys from this module");
    }
    this.#keys.set(name, pair);
    this.touch();
  }

  get(name) {
    const pair = this.#keys.get(name) ?? null;
    if (pair) this.touch();
    return pair;
  }

  has(name) { return this.#keys.has(name); }
  get size() { return this.#keys.size; }

  /** Record activity: the idle countdown starts again. */
  touch() {
    clearTimeout(this.#timer);
    this.#timer = this.#keys.size ? setTimeout(() => this.#forget("idle"), this.#idleMs) : null;
  }

  logout() { this.#forget("logout"); }

  #forget(reason) {
    clearTimeout(this.#timer);
    this.#timer = null;
    const had = this.#keys.size;
    this.#keys.clear();
    if (had && this.#onForget) this.#onForget(reason);
  }
}
