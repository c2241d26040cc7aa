"""A candidate's case file (ADR 0021): one ZIP a reviewer downloads from the review workspace for the
exam board. It holds what the reviewer may see through the API, and evidence only as ciphertext:

- ``case.json``: the exam, the candidate's pseudonym, the timeline, flags, incident notes,
  decisions, every evidence item (fingerprint, size, status) and every erasure with its reason;
- ``case.md``: the same for people, in reading order;
- ``sealed/<captured>_<kind>_<client id>.sealed``: each stored item exactly as stored (the agent's
  envelope), which opens only with the exam's key. No plaintext ever passes through the server.

The caller checks access (exams/access.py) and restriction; this module assembles and logs.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.evidence.models import EvidenceItem
from invigil.exams.models import Candidate, Exam
from invigil.flags import repository as flags_repo
from invigil.flags import service as flags
from invigil.kit.clock import iso
from invigil.review import service
from invigil.review.models import Erasure
from invigil.sessions.models import ExamSession
from invigil.storage import BlobNotFound, BlobStore

SPOOL_BYTES = 16 * 1024 * 1024  # larger case files go to a temporary file (ciphertext only)
NOT_A_VERDICT = (
    "Invigil never decides. Flags ask a person to look; decisions below were recorded by people, "
    "with their reasons, and nothing in Invigil acts on them."
)


def pseudonym(db: Session, session: ExamSession) -> str:
    candidate = db.get(Candidate, session.candidate_id)
    return candidate.pseudonym if candidate else session.id


def erasures(db: Session, session_id: str) -> list[Erasure]:
    return list(db.scalars(select(Erasure).where(Erasure.session_id == session_id).order_by(Erasure.at)))


def _items(db: Session, session_id: str) -> list[EvidenceItem]:
    return list(
        db.scalars(
            select(EvidenceItem)
            .where(EvidenceItem.session_id == session_id, EvidenceItem.status.in_(("stored", "erased")))
            .order_by(EvidenceItem.captured_at, EvidenceItem.id)
        )
    )


def sealed_name(item: EvidenceItem) -> str:
    return f"sealed/{item.captured_at.strftime('%Y%m%dT%H%M%SZ')}_{item.kind}_{item.client_id}.sealed"


def build(
    db: Session, store: BlobStore, exam: Exam, session: ExamSession, staff_id: str, now: datetime
) -> tuple[str, IO[bytes]]:
    """The file name and the ZIP (rewound). Writes one ``casefile.export`` entry to the access log."""
    who = pseudonym(db, session)
    erased = {e.item_id: e for e in erasures(db, session.id)}
    spool: IO[bytes] = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 -- handed to the response
    evidence: list[dict[str, Any]] = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for item in _items(db, session.id):
            row: dict[str, Any] = {
                "id": item.id,
                "client_id": item.client_id,
                "kind": item.kind,
                "captured_at": iso(item.captured_at),
                "size_sealed": item.size,
                "sha256_sealed": item.sha256,
                "status": item.status,
            }
            if item.status == "erased":
                e = erased.get(item.id)
                row["erased"] = None if e is None else {"at": iso(e.at), "by": e.staff_id, "reason": e.reason}
            else:
                try:
                    data = store.get(item.blob_key)
                except BlobNotFound:
                    row["status"] = "missing"
                else:
                    row["file"] = sealed_name(item)
                    z.writestr(row["file"], data, compress_type=zipfile.ZIP_STORED)  # ciphertext
            evidence.append(row)
        timeline = service.timeline(db, session, now)
        case = {
            "format": "invigil-case-file/1",
            "note": NOT_A_VERDICT,
            "exam": {
                "id": exam.id,
                "title": exam.title,
                "starts_at": iso(exam.starts_at),
                "ends_at": iso(exam.ends_at),
                "timezone": exam.timezone,
            },
            "candidate": who,
            "session_id": session.id,
            "exported_at": iso(now),
            "exported_by": staff_id,
            "state": timeline["state"],
            "decision": timeline["decision"],
            "timeline": timeline["entries"],
            "flags": flags.describe(flags_repo.flags_of_session(db, session.id)),
            "notes": [
                {"id": n.id, "at": iso(n.at), "by": n.staff_id, "text": n.text}
                for n in service.notes(db, session.exam_id, session.id)
            ],
            "decisions": [
                {"id": d.id, "at": iso(d.at), "by": d.staff_id, "outcome": d.outcome, "reason": d.reason}
                for d in service.decisions(db, session.id)
            ],
            "evidence": evidence,
        }
        z.writestr("case.json", json.dumps(case, indent=2, ensure_ascii=False))
        z.writestr("case.md", "\n".join(markdown(case)) + "\n")
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action="casefile.export",
        at=now,
        exam_id=exam.id,
        session_id=session.id,
        items=sum(1 for e in evidence if "file" in e),
    )
    spool.seek(0)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return f"case-{_safe(who)}-{stamp}.zip", spool


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)[:40] or "candidate"


def _md(text: Any) -> str:
    """One line of someone's words, so it cannot start a heading or a table in the Markdown."""
    return " ".join(str(text).split()).replace("|", "\\|")


def markdown(case: dict[str, Any]) -> Iterator[str]:
    exam = case["exam"]
    yield f"# Case file: {_md(case['candidate'])}, {_md(exam['title'])}"
    yield ""
    yield f"*{case['note']}*"
    yield ""
    yield f"- Exam: {_md(exam['title'])} ({exam['starts_at']} to {exam['ends_at']}, {exam['timezone']})"
    yield f"- Candidate (pseudonym): {_md(case['candidate'])}; session `{case['session_id']}`"
    yield f"- Exported: {case['exported_at']} by staff `{case['exported_by']}`"
    latest = case["decision"]
    yield f"- Latest decision: {latest['outcome'] if latest else 'none recorded'}"
    yield ""
    yield "## Flags (not verdicts)"
    yield ""
    if case["flags"]:
        yield "| severity | behaviour | source | start | end | peak | evidence |"
        yield "|---|---|---|---|---|---|---|"
        for f in case["flags"]:
            yield (
                f"| {f['severity']} | {f['behaviour']} | {f['source']} | {f['start']} | {f['end']} | "
                f"{f['peak_score']:.2f} | {', '.join(f['evidence']) or '—'} |"
            )
    else:
        yield "No flags."
    yield ""
    yield "## Decisions"
    yield ""
    for d in case["decisions"] or []:
        yield f"- {d['at']} **{d['outcome']}** by `{d['by']}`: {_md(d['reason'])}"
    if not case["decisions"]:
        yield "None recorded."
    yield ""
    yield "## Incident notes"
    yield ""
    for n in case["notes"] or []:
        yield f"- {n['at']} by `{n['by']}`: {_md(n['text'])}"
    if not case["notes"]:
        yield "None."
    yield ""
    yield "## Timeline"
    yield ""
    for e in case["timeline"]:
        detail = {k: v for k, v in e.items() if k not in ("at", "kind", "text", "reason", "data")}
        yield f"- {e['at']} {e['kind']}: {_md(json.dumps(detail, ensure_ascii=False))}"
    yield ""
    yield "## Evidence items (sealed)"
    yield ""
    yield "Each stored item is in `sealed/` exactly as the candidate's computer sealed it; it opens only"
    yield "with the exam's key (a key holder of the exam). The SHA-256 is of the sealed bytes, as Invigil"
    yield "recorded them on arrival."
    yield ""
    yield "| captured | kind | item | status | sha256 (sealed) | file or erasure |"
    yield "|---|---|---|---|---|---|"
    for i in case["evidence"]:
        where = i.get("file") or (
            f"erased {i['erased']['at']}: {_md(i['erased']['reason'])}" if i.get("erased") else "—"
        )
        yield (
            f"| {i['captured_at']} | {i['kind']} | `{i['client_id']}` | {i['status']} | "
            f"`{i['sha256_sealed'][:16]}…` | {where} |"
        )
