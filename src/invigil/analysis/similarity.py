"""Near-identical hand-ins: word shingles, MinHash signatures and LSH banding (hashlib only).

Pure functions, like every detector. ``near_duplicates`` compares the hand-ins of one exam and
reports pairs whose estimated Jaccard similarity of 5-word shingles reaches the threshold; the exact
Jaccard of each reported pair is computed too, so the number a reviewer sees is not an estimate.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from invigil.analysis.base import Detection

SHINGLE_WORDS = 5
PERMUTATIONS = 128
BANDS = 32  # 32 bands of 4 rows: pairs above ~0.5 similarity almost always share a band
_PRIME = (1 << 61) - 1
_WORD = re.compile(r"\w+", re.UNICODE)
_TAG = re.compile(r"<[^>]+>")


def _coefficients() -> list[tuple[int, int]]:
    out = []
    for i in range(PERMUTATIONS):
        digest = hashlib.sha256(f"invigil-minhash-{i}".encode()).digest()
        a = int.from_bytes(digest[:8], "big") % (_PRIME - 1) + 1
        b = int.from_bytes(digest[8:16], "big") % _PRIME
        out.append((a, b))
    return out


_COEFFS = _coefficients()


def text_of(data: bytes) -> str:
    """The text of a handed-in file: plain text, or the XML text of a .docx/.odt (zip) document."""
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = [n for n in ("word/document.xml", "content.xml") if n in z.namelist()]
                return " ".join(_TAG.sub(" ", z.read(n).decode("utf-8", "ignore")) for n in names)
        except zipfile.BadZipFile:
            pass
    return data.decode("utf-8", "ignore")


def shingles(text: str, k: int = SHINGLE_WORDS) -> set[int]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < k:
        words = words + [""] * (k - len(words)) if words else []
    grams = {" ".join(words[i : i + k]) for i in range(max(0, len(words) - k + 1))}
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "big") for g in grams}


def signature(shingle_set: set[int]) -> tuple[int, ...]:
    if not shingle_set:
        return ()
    return tuple(min((a * s + b) % _PRIME for s in shingle_set) for a, b in _COEFFS)


def estimate(sig_a: tuple[int, ...], sig_b: tuple[int, ...]) -> float:
    if not sig_a or not sig_b:
        return 0.0
    return sum(x == y for x, y in zip(sig_a, sig_b, strict=True)) / len(sig_a)


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    similarity: float  # exact Jaccard of the shingle sets
    estimate: float  # the MinHash estimate that found the pair


def near_duplicates(texts: Mapping[str, str], threshold: float = 0.5, min_shingles: int = 20) -> list[Pair]:
    """Pairs of keys whose texts are near-identical. Texts too short to judge are skipped."""
    sets = {k: shingles(t) for k, t in texts.items()}
    sets = {k: s for k, s in sets.items() if len(s) >= min_shingles}
    sigs = {k: signature(s) for k, s in sets.items()}
    rows = PERMUTATIONS // BANDS
    candidates: set[tuple[str, str]] = set()
    for band in range(BANDS):
        buckets: dict[tuple[int, ...], list[str]] = {}
        for key, sig in sigs.items():
            buckets.setdefault(sig[band * rows : (band + 1) * rows], []).append(key)
        for keys in buckets.values():
            candidates.update(combinations(sorted(keys), 2))
    out = []
    for a, b in sorted(candidates):
        est = estimate(sigs[a], sigs[b])
        exact = jaccard(sets[a], sets[b])
        if exact >= threshold:
            out.append(Pair(a, b, round(exact, 4), round(est, 4)))
    return out


def detections_for(pair: Pair, at: datetime, evidence: Mapping[str, tuple[str, ...]]) -> dict[str, Detection]:
    """One ``handin.near_duplicate`` detection for each side of a pair, naming the other side."""
    return {
        me: Detection(
            "handin.near_duplicate",
            min(1.0, pair.similarity),
            at,
            at,
            evidence.get(me, ()),
            {"other_session": other, "similarity": pair.similarity, "minhash_estimate": pair.estimate},
        )
        for me, other in ((pair.a, pair.b), (pair.b, pair.a))
    }
