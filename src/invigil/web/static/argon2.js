// argon2.js: argon2id (RFC 9106, version 0x13) and BLAKE2b (RFC 7693) in plain JavaScript, so that a
// coordinator's browser can seal an assignment with the exam PIN exactly as `invigil assignment
// upload` does (src/invigil/kit/pinseal.py, ADR 0007, ADR 0023). WebCrypto has no memory-hard KDF.
//
// 64-bit words are kept as pairs of 32-bit halves, low half first, in Uint32Arrays; no BigInt in the
// inner loops. The result is checked byte for byte against argon2-cffi (tests/browser/
// test_assignment_page.py) and its speed is in docs/benchmarks.md (bench/browser_argon2.py).

import { concat } from "./invigil-crypto.js";

// ---- BLAKE2b ---------------------------------------------------------------------------------------
const IV = Uint32Array.from([
  0xf3bcc908, 0x6a09e667, 0x84caa73b, 0xbb67ae85, 0xfe94f82b, 0x3c6ef372, 0x5f1d36f1, 0xa54ff53a,
  0xade682d1, 0x510e527f, 0x2b3e6c1f, 0x9b05688c, 0xfb41bd6b, 0x1f83d9ab, 0x137e2179, 0x5be0cd19,
]);
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
].map((row) => row.map((i) => 2 * i));

// v[a] += v[b] (+ the 64-bit word x0|x1): 64-bit additions on 32-bit halves.
function add64(v, a, b) {
  const lo = v[a] + v[b];
  v[a + 1] = v[a + 1] + v[b + 1] + (lo > 0xffffffff ? 1 : 0);
  v[a] = lo;
}
function add64c(v, a, x0, x1) {
  const lo = v[a] + x0;
  v[a + 1] = v[a + 1] + x1 + (lo > 0xffffffff ? 1 : 0);
  v[a] = lo;
}
// d = (d ^ a) >>> 32, b = (b ^ c) >>> 24, d = (d ^ a) >>> 16, b = (b ^ c) >>> 63 (rotations).
function rot32(v, d, a) {
  const x0 = v[d] ^ v[a], x1 = v[d + 1] ^ v[a + 1];
  v[d] = x1; v[d + 1] = x0;
}
function rot24(v, b, c) {
  const x0 = v[b] ^ v[c], x1 = v[b + 1] ^ v[c + 1];
  v[b] = (x0 >>> 24) ^ (x1 << 8); v[b + 1] = (x1 >>> 24) ^ (x0 << 8);
}
function rot16(v, d, a) {
  const x0 = v[d] ^ v[a], x1 = v[d + 1] ^ v[a + 1];
  v[d] = (x0 >>> 16) ^ (x1 << 16); v[d + 1] = (x1 >>> 16) ^ (x0 << 16);
}
function rot63(v, b, c) {
  const x0 = v[b] ^ v[c], x1 = v[b + 1] ^ v[c + 1];
  v[b] = (x1 >>> 31) ^ (x0 << 1); v[b + 1] = (x0 >>> 31) ^ (x1 << 1);
}

function mixB2b(v, m, a, b, c, d, ix, iy) {
  add64(v, a, b); add64c(v, a, m[ix], m[ix + 1]); rot32(v, d, a);
  add64(v, c, d); rot24(v, b, c);
  add64(v, a, b); add64c(v, a, m[iy], m[iy + 1]); rot16(v, d, a);
  add64(v, c, d); rot63(v, b, c);
}

function compressB2b(h, block, counted, last) {
  const v = new Uint32Array(32), m = new Uint32Array(32);
  v.set(h); v.set(IV, 16);
  v[24] ^= counted >>> 0; v[25] ^= Math.floor(counted / 0x100000000); // byte counter, below 2**53
  if (last) { v[28] = ~v[28]; v[29] = ~v[29]; }
  for (let i = 0; i < 32; i++) {
    m[i] = block[4 * i] | (block[4 * i + 1] << 8) | (block[4 * i + 2] << 16) | (block[4 * i + 3] << 24);
  }
  for (const s of SIGMA.concat(SIGMA.slice(0, 2))) { // 12 rounds
    mixB2b(v, m, 0, 8, 16, 24, s[0], s[1]); mixB2b(v, m, 2, 10, 18, 26, s[2], s[3]);
    mixB2b(v, m, 4, 12, 20, 28, s[4], s[5]); mixB2b(v, m, 6, 14, 22, 30, s[6], s[7]);
    mixB2b(v, m, 0, 10, 20, 30, s[8], s[9]); mixB2b(v, m, 2, 12, 22, 24, s[10], s[11]);
    mixB2b(v, m, 4, 14, 16, 26, s[12], s[13]); mixB2b(v, m, 6, 8, 18, 28, s[14], s[15]);
  }
  for (let i = 0; i < 16; i++) h[i] ^= v[i] ^ v[i + 16];
}

/** BLAKE2b of ``data`` (a Uint8Array), ``outLen`` bytes (1-64), unkeyed. */
export function blake2b(data, outLen = 64) {
  if (!(outLen >= 1 && outLen <= 64)) throw new RangeError("BLAKE2b output is 1 to 64 bytes");
  const h = Uint32Array.from(IV);
  h[0] ^= 0x01010000 ^ outLen; // parameter block: digest length, no key, fanout 1, depth 1
  const block = new Uint8Array(128);
  let at = 0;
  while (data.length - at > 128) {
    compressB2b(h, data.subarray(at, at + 128), at + 128, false);
    at += 128;
  }
  block.set(data.subarray(at));
  compressB2b(h, block, data.length, true);
  const out = new Uint8Array(64);
  for (let i = 0; i < 16; i++) {
    out[4 * i] = h[i]; out[4 * i + 1] = h[i] >>> 8; out[4 * i + 2] = h[i] >>> 16; out[4 * i + 3] = h[i] >>> 24;
  }
  return out.slice(0, outLen);
}

// ---- argon2id ----------------------------------------------------------------------------------------
const BLOCK_WORDS = 256; // 1024 bytes as 32-bit halves
const SYNC_POINTS = 4;
const ADDRESSES_IN_BLOCK = 128;
const VERSION = 0x13;
const TYPE_ID = 2;

const le32 = (n) => Uint8Array.of(n, n >>> 8, n >>> 16, n >>> 24);

// H' of RFC 9106 §3.3: BLAKE2b stretched to ``length`` bytes.
function hashLong(input, length) {
  const x = concat(le32(length), input);
  if (length <= 64) return blake2b(x, length);
  const out = new Uint8Array(length);
  let v = blake2b(x, 64), at = 0;
  for (; length - at > 64; at += 32) {
    out.set(v.subarray(0, 32), at);
    v = blake2b(v, length - at - 32 > 64 ? 64 : length - at - 32);
  }
  out.set(v, at);
  return out;
}

// The high 32 bits of the product of two unsigned 32-bit numbers. The double product is within
// 2**12 of the exact one and the low 32 bits are exact (Math.imul), so rounding the difference's
// high part gives the exact high half.
const TWO32 = 0x100000000;
const mulHi = (a, b) => Math.round((a * b - (Math.imul(a, b) >>> 0)) / TWO32);

// v[a] = v[a] + v[b] + 2 * lo32(v[a]) * lo32(v[b]), mod 2**64 (BlaMka's multiplication-hardened add).
function blamka(v, a, b) {
  const x = v[a], y = v[b];
  const pLo = Math.imul(x, y) >>> 0, pHi = Math.round((x * y - pLo) / TWO32);
  const lo = x + y;
  const hi = v[a + 1] + v[b + 1] + (lo > 0xffffffff ? 1 : 0) + ((pHi << 1) | (pLo >>> 31));
  const lo2 = (lo >>> 0) + ((pLo << 1) >>> 0);
  v[a] = lo2;
  v[a + 1] = hi + (lo2 > 0xffffffff ? 1 : 0);
}

function gb(v, a, b, c, d) {
  blamka(v, a, b); rot32(v, d, a);
  blamka(v, c, d); rot24(v, b, c);
  blamka(v, a, b); rot16(v, d, a);
  blamka(v, c, d); rot63(v, b, c);
}

// The permutation P on 16 64-bit words at the given half-word offsets.
function permute(v, w) {
  gb(v, w[0], w[4], w[8], w[12]); gb(v, w[1], w[5], w[9], w[13]);
  gb(v, w[2], w[6], w[10], w[14]); gb(v, w[3], w[7], w[11], w[15]);
  gb(v, w[0], w[5], w[10], w[15]); gb(v, w[1], w[6], w[11], w[12]);
  gb(v, w[2], w[7], w[8], w[13]); gb(v, w[3], w[4], w[9], w[14]);
}
const ROWS = Array.from({ length: 8 }, (_, i) => Array.from({ length: 16 }, (_, j) => 2 * (16 * i + j)));
const COLUMNS = Array.from({ length: 8 }, (_, i) =>
  Array.from({ length: 16 }, (_, j) => 2 * (2 * i + (j & 1) + 16 * (j >> 1))));

/** Compression G: out = P(x ^ y) ^ (x ^ y), XORed into out's old value when ``xor`` (passes after the first). */
function fillBlock(mem, x, y, out, xor, r, keep) {
  for (let i = 0; i < BLOCK_WORDS; i++) r[i] = mem[x + i] ^ mem[y + i];
  keep.set(r);
  if (xor) for (let i = 0; i < BLOCK_WORDS; i++) keep[i] ^= mem[out + i];
  for (const row of ROWS) permute(r, row);
  for (const column of COLUMNS) permute(r, column);
  for (let i = 0; i < BLOCK_WORDS; i++) mem[out + i] = keep[i] ^ r[i];
}

/** Where the reference block lies in its lane (RFC 9106 §3.4.1.2), from the 32-bit J1. */
function indexAlpha(pass, slice, index, segment, laneLength, sameLane, j1) {
  let area;
  if (pass === 0) {
    if (slice === 0) area = index - 1;
    else area = slice * segment + (sameLane ? index - 1 : index === 0 ? -1 : 0);
  } else {
    area = laneLength - segment + (sameLane ? index - 1 : index === 0 ? -1 : 0);
  }
  const x = mulHi(j1, j1);
  const relative = area - 1 - mulHi(area, x);
  const start = pass !== 0 && slice !== SYNC_POINTS - 1 ? (slice + 1) * segment : 0;
  return (start + relative) % laneLength;
}

/**
 * argon2id(password, salt) -> Uint8Array of ``hashLength`` bytes, as argon2-cffi's hash_secret_raw
 * with Type.ID and version 19 (no secret, no associated data). ``onProgress(done, total)`` is called
 * after every segment; the work yields to the page between segments so it can show progress.
 */
export async function argon2id(password, salt, { memoryKib, iterations, parallelism = 1, hashLength = 32 }, onProgress = () => {}) {
  const lanes = parallelism;
  if (!(lanes >= 1 && iterations >= 1 && memoryKib >= 8 * lanes && salt.length >= 8)) {
    throw new RangeError("argon2id parameters out of range");
  }
  const blocks = 4 * lanes * Math.floor(memoryKib / (4 * lanes));
  const laneLength = blocks / lanes, segment = laneLength / SYNC_POINTS;
  const h0 = blake2b(concat(
    le32(lanes), le32(hashLength), le32(memoryKib), le32(iterations), le32(VERSION), le32(TYPE_ID),
    le32(password.length), password, le32(salt.length), salt, le32(0), le32(0),
  ), 64);
  const mem = new Uint32Array(blocks * BLOCK_WORDS);
  const words = (bytes) => new Uint32Array(bytes.buffer, bytes.byteOffset, BLOCK_WORDS);
  for (let l = 0; l < lanes; l++) {
    mem.set(words(hashLong(concat(h0, le32(0), le32(l)), 1024)), l * laneLength * BLOCK_WORDS);
    mem.set(words(hashLong(concat(h0, le32(1), le32(l)), 1024)), (l * laneLength + 1) * BLOCK_WORDS);
  }
  // Scratch: the permutation's working copy, its saved input, and the address generator's blocks
  // (placed after the memory so that fillBlock works on one array).
  const r = new Uint32Array(BLOCK_WORDS), keep = new Uint32Array(BLOCK_WORDS);
  const gen = new Uint32Array(3 * BLOCK_WORDS); // zero block | input block | address block
  const genMem = gen, ZERO = 0, INPUT = BLOCK_WORDS, ADDRESS = 2 * BLOCK_WORDS;
  const nextAddresses = () => {
    genMem[INPUT + 12] += 1; // the counter, word 6
    fillBlock(genMem, ZERO, INPUT, ADDRESS, false, r, keep);
    fillBlock(genMem, ZERO, ADDRESS, ADDRESS, false, r, keep);
  };
  const segmentMem = (lane, index) => (lane * laneLength + index) * BLOCK_WORDS;
  const total = iterations * SYNC_POINTS * lanes;
  let done = 0;
  for (let pass = 0; pass < iterations; pass++) {
    for (let slice = 0; slice < SYNC_POINTS; slice++) {
      for (let lane = 0; lane < lanes; lane++) {
        const independent = pass === 0 && slice < SYNC_POINTS / 2;
        if (independent) {
          gen.fill(0);
          gen[INPUT] = pass; gen[INPUT + 2] = lane; gen[INPUT + 4] = slice; gen[INPUT + 6] = blocks;
          gen[INPUT + 8] = iterations; gen[INPUT + 10] = TYPE_ID;
        }
        let start = 0;
        if (pass === 0 && slice === 0) {
          start = 2;
          if (independent) nextAddresses();
        }
        for (let i = start; i < segment; i++) {
          const index = slice * segment + i; // within the lane
          const prev = segmentMem(lane, index === 0 ? laneLength - 1 : index - 1);
          let j1, j2;
          if (independent) {
            if (i % ADDRESSES_IN_BLOCK === 0) nextAddresses();
            j1 = gen[ADDRESS + 2 * (i % ADDRESSES_IN_BLOCK)];
            j2 = gen[ADDRESS + 2 * (i % ADDRESSES_IN_BLOCK) + 1];
          } else {
            j1 = mem[prev]; j2 = mem[prev + 1];
          }
          const refLane = pass === 0 && slice === 0 ? lane : j2 % lanes;
          const refIndex = indexAlpha(pass, slice, i, segment, laneLength, refLane === lane, j1);
          fillBlock(mem, prev, segmentMem(refLane, refIndex), segmentMem(lane, index), pass > 0, r, keep);
        }
        onProgress(++done, total);
        await new Promise((resolve) => setTimeout(resolve, 0));
      }
    }
  }
  const final = new Uint32Array(BLOCK_WORDS);
  for (let lane = 0; lane < lanes; lane++) {
    const last = segmentMem(lane, laneLength - 1);
    for (let i = 0; i < BLOCK_WORDS; i++) final[i] ^= mem[last + i];
  }
  mem.fill(0);
  const tag = hashLong(new Uint8Array(final.buffer), hashLength);
  final.fill(0);
  return tag;
}
