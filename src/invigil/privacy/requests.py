"""Data-subject requests handled by staff: erasure (GDPR Art. 17) and restriction (Art. 18).

A request is registered as it arrives, then carried out or refused with a reason (erasure may be
refused while the data is needed for legal claims, Art. 17(3)(e)); a restriction is in force until
lifted. Every step is in the access log. The right of access (Art. 15) needs no staff: the candidate
exports their own data from the receipt page (portal/subject_export.py).

While a restriction is in force the session's data is stored but not processed: staff cannot read
its evidence, timeline or flags, and the analysis worker skips it (``check_not_restricted``).
Retention still deletes it when its period ends.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.evidence.models import EvidenceItem
from invigil.exams.models import CandidateIdentity
from invigil.kit import reasons
from invigil.kit.clock import iso
from invigil.kit.errors import Conflict, Forbidden, Invalid
from invigil.privacy.models import SubjectRequest
from invigil.retention import holds, records
from invigil.sessions.models import ExamSession

KINDS = ("erasure", "restriction")


def _reason(text: str) -> str:
    return reasons.written(text, "Give the reason: it is what the register shows the DPA")


def _log(db: Session, r: SubjectRequest, staff_id: str, action: str, now: datetime, **detail: Any) -> None:
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action=action,
        at=now,
        exam_id=r.exam_id,
        session_id=r.session_id,
        request=r.id,
        kind=r.kind,
        **detail,
    )


def register(
    db: Session, session: ExamSession, kind: str, note: str, staff_id: str, now: datetime
) -> SubjectRequest:
    if kind not in KINDS:
        raise Invalid(
            f"'{kind}' is not a request staff carry out here: {', '.join(KINDS)} (access is self-service)."
        )
    r = SubjectRequest(
        exam_id=session.exam_id,
        session_id=session.id,
        kind=kind,
        note=note.strip()[:2000],
        received_by=staff_id,
        received_at=now,
    )
    db.add(r)
    db.flush()
    _log(db, r, staff_id, "request.register", now)
    return r


def carry_out(db: Session, r: SubjectRequest, staff_id: str, reason: str, now: datetime) -> dict[str, int]:
    """Erase the session's data, or put the restriction in force. Answers what was erased (rows/items)."""
    if r.status != "open":
        raise Conflict(f"This request is already {r.status.replace('_', ' ')}.")
    reason = _reason(reason)
    erased: dict[str, int] = {}
    if r.kind == "erasure":
        if holds.held(db, r.exam_id).covers(r.session_id):
            raise Conflict(
                "A legal hold keeps this candidate's data: release it first, "
                "or refuse the request with the reason."
            )
        erased = _erase_session(db, r.session_id, now)
        r.status = "done"
    else:
        r.status = "in_force"
    r.decided_at, r.decided_by, r.reason = now, staff_id, reason
    _log(db, r, staff_id, f"request.{r.kind}", now, erased=erased)
    return erased


def refuse(db: Session, r: SubjectRequest, staff_id: str, reason: str, now: datetime) -> None:
    if r.status != "open":
        raise Conflict(f"This request is already {r.status.replace('_', ' ')}.")
    r.status, r.decided_at, r.decided_by, r.reason = "refused", now, staff_id, _reason(reason)
    _log(db, r, staff_id, "request.refuse", now)


def lift(db: Session, r: SubjectRequest, staff_id: str, reason: str, now: datetime) -> None:
    if r.kind != "restriction" or r.status != "in_force":
        raise Conflict("Only a restriction in force can be lifted.")
    r.status, r.reason = "lifted", f"{r.reason}\nLifted: {_reason(reason)}"
    _log(db, r, staff_id, "request.lift", now)


def restricted_since(db: Session, session_id: str) -> datetime | None:
    query = select(SubjectRequest.decided_at).where(
        SubjectRequest.session_id == session_id,
        SubjectRequest.kind == "restriction",
        SubjectRequest.status == "in_force",
    )
    return db.scalars(query).first()


def check_not_restricted(db: Session, session_id: str) -> None:
    """Forbidden while a restriction is in force: the one rule every reader of a session's data calls."""
    since = restricted_since(db, session_id)
    if since is not None:
        raise Forbidden(
            "Processing of this candidate's data is restricted at their request (GDPR Art. 18) "
            f"since {iso(since)}."
        )


def of_exam(db: Session, exam_id: str) -> list[SubjectRequest]:
    return list(
        db.scalars(
            select(SubjectRequest)
            .where(SubjectRequest.exam_id == exam_id)
            .order_by(SubjectRequest.received_at)
        )
    )


def _erase_session(db: Session, session_id: str, now: datetime) -> dict[str, int]:
    """Every stored item's ciphertext marked erased (blobs deleted by the caller after commit), every
    record about the session deleted, the candidate's name removed. The pseudonym and the register
    entry stay: they prove the erasure."""
    items = list(
        db.scalars(
            select(EvidenceItem).where(EvidenceItem.session_id == session_id, EvidenceItem.status == "stored")
        )
    )
    for item in items:
        item.status, item.shredded_at = "erased", now
    out = {"evidence_items": len(items)}
    for model in records.SESSION_RECORDS["flags_and_decisions"]:
        out[model.__tablename__] = records.count_and_delete(db, model, model.session_id == session_id)
    session = db.get(ExamSession, session_id)
    assert session is not None
    out["candidate_identities"] = records.count_and_delete(
        db, CandidateIdentity, CandidateIdentity.candidate_id == session.candidate_id
    )
    return {k: v for k, v in out.items() if v}


def erased_items(db: Session, session_id: str) -> list[EvidenceItem]:
    return list(
        db.scalars(
            select(EvidenceItem).where(EvidenceItem.session_id == session_id, EvidenceItem.status == "erased")
        )
    )
