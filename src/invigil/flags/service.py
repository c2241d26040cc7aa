"""Detections in, flags out: recording (idempotent), the rules of an exam, rebuilding episodes.

Services take a session and never commit. No flag is a verdict, and nothing here acts on one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from invigil.analysis import rules as rulebook
from invigil.analysis.base import Detection
from invigil.audit import service as audit
from invigil.exams.models import Exam
from invigil.flags import repository
from invigil.flags.models import DetectionRecord, Flag, RuleSetRow
from invigil.kit.clock import iso, utcnow
from invigil.kit.db import insert_ignore

SOURCES = ("agent", "worker")
INSTITUTION_SCOPE = "institution"


def fingerprint(d: Detection) -> str:
    """The same detection reported twice has the same fingerprint (so the second is a no-op)."""
    doc = [d.behaviour, iso(d.start), iso(d.end), round(d.score, 4), sorted(d.evidence), d.data]
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def record(
    db: Session,
    exam_id: str,
    session_id: str,
    source: str,
    detections: Iterable[Detection | tuple[Detection, str]],
) -> int:
    """Store detections not seen before from this source; answer how many were new."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    known = repository.fingerprints(db, session_id, source)
    rows = []
    for entry in detections:
        d, fp = entry if isinstance(entry, tuple) else (entry, fingerprint(entry))
        if fp in known:
            continue
        known.add(fp)
        rows.append(
            {
                "exam_id": exam_id,
                "session_id": session_id,
                "source": source,
                "fingerprint": fp,
                "behaviour": d.behaviour,
                "score": d.score,
                "start": d.start,
                "end": d.end,
                "evidence": list(d.evidence),
                "data": d.data,
                "recorded_at": utcnow(),
            }
        )
    if not rows:
        return 0
    # Two workers may analyse the same evidence at once: the second one's rows are simply skipped.
    table = DetectionRecord.__table__
    stmt = insert_ignore(db, table, ["session_id", "source", "fingerprint"], returning=("id",))
    return len(db.execute(stmt, rows).all())


# -- rules --------------------------------------------------------------------------------------


def exam_scope(exam_id: str) -> str:
    return f"exam:{exam_id}"


def institution_rules(db: Session, institution_id: str) -> dict[str, rulebook.Rule]:
    row = repository.rule_row(db, institution_id, INSTITUTION_SCOPE)
    return rulebook.parse_rules(row.rules if row else None)


def exam_rules(db: Session, exam: Exam) -> dict[str, rulebook.Rule]:
    base = institution_rules(db, exam.institution_id)
    row = repository.rule_row(db, exam.institution_id, exam_scope(exam.id))
    return rulebook.parse_rules(row.rules if row else None, base)


def _store_rules(
    db: Session, institution_id: str, scope: str, overrides: dict[str, Any], staff_id: str, now: datetime
) -> None:
    row = repository.rule_row(db, institution_id, scope)
    if row is None:
        row = RuleSetRow(institution_id=institution_id, scope=scope)
        db.add(row)
    row.rules, row.updated_at, row.updated_by = overrides, now, staff_id
    db.flush()


def set_exam_rules(
    db: Session, exam: Exam, data: Any, staff_id: str, now: datetime
) -> dict[str, rulebook.Rule]:
    """Validate and store an exam's rules (changes over the institution's), then rebuild its flags."""
    base = institution_rules(db, exam.institution_id)
    parsed = rulebook.parse_rules(data, base)
    changed = rulebook.overrides(parsed, base)
    _store_rules(db, exam.institution_id, exam_scope(exam.id), changed, staff_id, now)
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action="flag_rules.update",
        at=now,
        exam_id=exam.id,
        rules=changed,
    )
    rebuild_exam(db, exam)
    return parsed


def set_institution_rules(
    db: Session, institution_id: str, data: Any, staff_id: str, now: datetime
) -> dict[str, rulebook.Rule]:
    parsed = rulebook.parse_rules(data)
    changed = rulebook.overrides(parsed, rulebook.DEFAULT_RULES)
    _store_rules(db, institution_id, INSTITUTION_SCOPE, changed, staff_id, now)
    audit.record(
        db, actor_kind="staff", actor_id=staff_id, action="flag_rules.defaults", at=now, rules=changed
    )
    return parsed


# -- flags --------------------------------------------------------------------------------------


def _as_detection(row: DetectionRecord) -> Detection:
    return Detection(row.behaviour, row.score, row.start, row.end, tuple(row.evidence), dict(row.data))


def rebuild(db: Session, exam: Exam, session_id: str, rules: dict[str, rulebook.Rule] | None = None) -> int:
    """Recompute a session's flags from its detections, each source separately. Idempotent."""
    rules = rules or exam_rules(db, exam)
    repository.delete_flags(db, session_id)
    by_source: dict[str, list[Detection]] = {}
    for row in repository.detections(db, session_id):
        by_source.setdefault(row.source, []).append(_as_detection(row))
    n = 0
    for source, items in sorted(by_source.items()):
        for ep in rulebook.apply(items, rules):
            db.add(
                Flag(
                    exam_id=exam.id,
                    session_id=session_id,
                    source=source,
                    behaviour=ep.behaviour,
                    severity=ep.severity,
                    start=ep.start,
                    end=ep.end,
                    peak_score=round(ep.peak_score, 4),
                    detections=ep.detections,
                    evidence=ep.evidence[:200],
                    data=ep.data,
                )
            )
            n += 1
    db.flush()
    return n


def rebuild_exam(db: Session, exam: Exam) -> int:
    rules = exam_rules(db, exam)
    return sum(rebuild(db, exam, sid, rules) for sid in repository.sessions_with_detections(db, exam.id))


def describe(flags: Sequence[Flag]) -> list[dict[str, Any]]:
    """Flags for people: both sources shown; the worker's is authoritative, the agent's says whether
    the worker saw the same (an agent flag the worker does not confirm deserves a closer look)."""
    worker = [f for f in flags if f.source == "worker"]

    def confirmed(f: Flag) -> bool | None:
        if f.source == "worker":
            return None
        return any(
            w.session_id == f.session_id
            and w.behaviour == f.behaviour
            and w.start <= f.end
            and f.start <= w.end
            for w in worker
        )

    return [
        {
            "id": f.id,
            "session_id": f.session_id,
            "behaviour": f.behaviour,
            "source": f.source,
            "authoritative": f.source == "worker",
            "confirmed_by_worker": confirmed(f),
            "severity": f.severity,
            "start": iso(f.start),
            "end": iso(f.end),
            "peak_score": f.peak_score,
            "detections": f.detections,
            "evidence": f.evidence,
            "data": f.data,
        }
        for f in flags
    ]


def counts_by_severity(flags: Iterable[Flag], source: str | None = None) -> dict[str, int]:
    out = dict.fromkeys(rulebook.SEVERITIES, 0)
    for f in flags:
        if source is None or f.source == source:
            out[f.severity] = out.get(f.severity, 0) + 1
    return out


def preferred(flags: Iterable[Flag]) -> list[Flag]:
    """One view for counting: per session and behaviour the worker's flags, or the agent's if the
    worker reported none (e.g. microphone detection mode, where nothing is recorded to re-analyse)."""
    flags = list(flags)
    by_worker = {(f.session_id, f.behaviour) for f in flags if f.source == "worker"}
    return [f for f in flags if f.source == "worker" or (f.session_id, f.behaviour) not in by_worker]
