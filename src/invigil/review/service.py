"""Incident notes, decisions, erasures and the candidate timeline. Services take a session, check
nothing about who is asking (the endpoints do, through exams/access.py) and never commit.

Nothing here acts on a flag or a decision: a decision is a person's record of what they concluded
and why; what follows from it happens outside Invigil, by people.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.evidence.models import EvidenceItem
from invigil.flags import repository as flags_repo
from invigil.flags import service as flags
from invigil.kit import reasons
from invigil.kit.clock import iso
from invigil.kit.errors import Conflict, Invalid
from invigil.review.models import Decision, Erasure, IncidentNote
from invigil.sessions import repository as sessions_repo
from invigil.sessions.models import Event, ExamSession


class Outcome(enum.StrEnum):
    NO_ACTION = "no_action"  # looked at it; nothing to pursue
    FOLLOW_UP = "follow_up"  # talk to the candidate, check with the invigilator, look again
    REPORT = "report"  # refer a suspicion of misconduct to the institution's exam board


def _text(value: str, what: str, minimum: int = reasons.MIN_REASON) -> str:
    return reasons.written(value, f"Write {what}, so that others can follow it later", minimum)


def add_note(
    db: Session, exam_id: str, session_id: str | None, staff_id: str, text: str, now: datetime
) -> IncidentNote:
    note = IncidentNote(
        exam_id=exam_id, session_id=session_id, staff_id=staff_id, text=_text(text, "the note", 1), at=now
    )
    db.add(note)
    db.flush()
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action="note.add",
        at=now,
        exam_id=exam_id,
        session_id=session_id,
        note=note.id,
    )
    return note


def notes(db: Session, exam_id: str, session_id: str | None = None) -> list[IncidentNote]:
    q = select(IncidentNote).where(IncidentNote.exam_id == exam_id)
    if session_id is not None:
        q = q.where(IncidentNote.session_id == session_id)
    return list(db.scalars(q.order_by(IncidentNote.at)))


def decide(
    db: Session, session: ExamSession, staff_id: str, outcome: str, reason: str, now: datetime
) -> Decision:
    try:
        chosen = Outcome(outcome)
    except ValueError:
        raise Invalid(
            f"'{outcome}' is not a decision: choose {', '.join(o.value for o in Outcome)}."
        ) from None
    decision = Decision(
        exam_id=session.exam_id,
        session_id=session.id,
        staff_id=staff_id,
        outcome=chosen.value,
        reason=_text(reason, "the reason"),
        at=now,
    )
    db.add(decision)
    db.flush()
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action="decision.record",
        at=now,
        exam_id=session.exam_id,
        session_id=session.id,
        outcome=chosen.value,
        decision=decision.id,
    )
    return decision


def decisions(db: Session, session_id: str) -> list[Decision]:
    return list(db.scalars(select(Decision).where(Decision.session_id == session_id).order_by(Decision.at)))


def erase(db: Session, item: EvidenceItem, staff_id: str, reason: str, now: datetime) -> Erasure:
    """Mark the item erased and record why; the caller deletes its blobs once this has committed."""
    if item.status == "erased":
        raise Conflict("This item was already erased.")
    if item.status != "stored":
        raise Conflict(
            "Only a stored item can be erased (this one is incomplete or its retention has ended)."
        )
    erasure = Erasure(
        item_id=item.id,
        exam_id=item.exam_id,
        session_id=item.session_id,
        staff_id=staff_id,
        reason=_text(reason, "the reason"),
        at=now,
    )
    db.add(erasure)
    item.status, item.shredded_at = "erased", now
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff_id,
        action="evidence.erase",
        at=now,
        exam_id=item.exam_id,
        session_id=item.session_id,
        item_id=item.id,
        kind=item.kind,
    )
    return erasure


# -- the timeline -------------------------------------------------------------------------------

QUIET_EVENTS = ("capture.",)  # one per evidence item: the items themselves are on the timeline


def timeline(db: Session, session: ExamSession, now: datetime) -> dict[str, Any]:
    """Everything that happened in one candidate's exam, in time order, for the reviewer."""
    entries: list[dict[str, Any]] = []

    def add(at: datetime | None, kind: str, **data: Any) -> None:
        if at is not None:
            entries.append({"at": iso(at), "kind": kind, **data})

    add(session.activated_at, "activated")
    add(session.handed_in_at, "handed_in")
    add(session.closed_at, "closed")
    for p in sessions_repo.offline_periods(db, [session.id]):
        end = p.ended_at or now
        add(p.started_at, "offline", end=iso(p.ended_at), seconds=round((end - p.started_at).total_seconds()))
    items = db.scalars(select(EvidenceItem).where(EvidenceItem.session_id == session.id))
    for item in items:
        if item.status in ("stored", "erased"):
            add(
                item.captured_at,
                "evidence",
                id=item.id,
                client_id=item.client_id,
                item_kind=item.kind,
                status=item.status,
                size=item.size,
            )
    for e in db.scalars(select(Event).where(Event.session_id == session.id)):
        if not e.type.startswith(QUIET_EVENTS) and not e.type.startswith("detection."):
            add(e.at, "event", type=e.type, severity=e.severity, data=e.data)
    for f in flags.describe(flags_repo.flags_of_session(db, session.id)):
        add(_dt(f["start"]), "flag", **{k: v for k, v in f.items() if k != "start"})
    for n in notes(db, session.exam_id, session.id):
        add(n.at, "note", id=n.id, staff_id=n.staff_id, text=n.text)
    for d in decisions(db, session.id):
        add(d.at, "decision", id=d.id, staff_id=d.staff_id, outcome=d.outcome, reason=d.reason)
    entries.sort(key=lambda x: (x["at"], x["kind"]))
    latest = decisions(db, session.id)
    return {
        "session_id": session.id,
        "state": session.state,
        "last_heartbeat_at": iso(session.last_heartbeat_at),
        "decision": None if not latest else {"outcome": latest[-1].outcome, "at": iso(latest[-1].at)},
        "entries": entries,
    }


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
