from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime, timedelta

from invigil.analysis import cohort, similarity

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
VOCAB = [
    "the",
    "algorithm",
    "runs",
    "in",
    "linear",
    "time",
    "because",
    "each",
    "step",
    "halves",
    "remaining",
    "input",
    "proof",
    "by",
    "induction",
]


def essay(seed: int, words: int = 400) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice([*VOCAB, f"w{rng.randrange(500)}"]) for _ in range(words))


def test_near_duplicates_found_and_distinct_texts_not() -> None:
    base = essay(1)
    words = base.split()
    edited = " ".join(w if i % 40 else "CHANGED" for i, w in enumerate(words))  # a few edits
    texts = {"s-a": base, "s-b": edited, "s-c": essay(2), "s-d": essay(3), "s-short": "too short"}
    pairs = similarity.near_duplicates(texts, threshold=0.5)
    assert [(p.a, p.b) for p in pairs] == [("s-a", "s-b")]
    p = pairs[0]
    assert 0.5 <= p.similarity < 1.0
    assert abs(p.estimate - p.similarity) < 0.15  # MinHash estimates the exact Jaccard
    dets = similarity.detections_for(p, T0, {"s-a": ("h1",)})
    assert dets["s-a"].data["other_session"] == "s-b"
    assert dets["s-b"].data["other_session"] == "s-a"
    assert dets["s-a"].evidence == ("h1",)


def test_identical_texts_have_similarity_one_and_minhash_is_deterministic() -> None:
    t = essay(5)
    s = similarity.shingles(t)
    assert similarity.signature(s) == similarity.signature(set(s))
    assert similarity.near_duplicates({"a": t, "b": t})[0].similarity == 1.0


def test_text_of_reads_docx_and_odt_xml() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document><w:t>Hello</w:t> <w:t>world</w:t></w:document>")
    assert similarity.text_of(out.getvalue()).split() == ["Hello", "world"]
    assert similarity.text_of("plain ø text".encode()) == "plain ø text"


def test_quantiles_and_percentiles() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert cohort.quantile(values, 0.5) == 2.5
    assert cohort.quantile(values, 0.25) == 1.75
    assert cohort.percentile_of(values, 4.0) == 87.5
    assert cohort.percentile_of(values, 0.0) == 0.0


def test_aggregate_places_each_candidate_in_the_exams_distribution() -> None:
    facts = [
        cohort.CandidateFacts(
            f"s{i}", f"C-{i}", T0 + timedelta(minutes=i), T0 + timedelta(minutes=30 + i * 10), {"red": i}
        )
        for i in range(5)
    ] + [cohort.CandidateFacts("s9", "C-9", None, None)]
    out = cohort.aggregate(T0, facts)
    assert out["distribution"]["flags"] == {
        "n": 5,
        "median": 2.0,
        "q1": 1.0,
        "q3": 3.0,
        "min": 0.0,
        "max": 4.0,
    }
    assert out["distribution"]["start_offset_seconds"]["median"] == 120.0
    last = out["candidates"][4]
    assert last["flags"] == {"value": 4.0, "percentile": 90.0}
    assert last["time_to_handin_seconds"]["value"] == 3960.0  # (30 + 40) - 4 minutes
    assert "flags" not in out["candidates"][5]  # never started: not part of the distribution
