"""Who may see what of an exam. Every read of candidate data goes through ``require``.

- admin, coordinator: manage the exam and see session status (no evidence content).
- invigilator: only exams they are assigned to, only during the exam window (live board, incident
  notes).
- reviewer: only exams they are assigned to (evidence, after and during the exam; notes; decisions
  and erasure of sensitive items are theirs alone).
- examiner: no proctoring data at all.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from invigil.accounts.models import Role, Staff
from invigil.audit import service as audit
from invigil.exams import repository
from invigil.exams.models import Exam
from invigil.kit.errors import Forbidden, Invalid
from invigil.protocol.policy import parse_policy

WINDOW_MARGIN = timedelta(minutes=30)
NO_ACCESS = "You do not have access to this exam's data."


class OfAnExam(Protocol):
    """A session, an evidence item, a legal hold, a data-subject request: anything of one exam."""

    @property
    def exam_id(self) -> str: ...


Thing = TypeVar("Thing", bound=OfAnExam)


class Purpose(enum.StrEnum):
    MANAGE = "manage"  # edit the exam, candidates, codes
    STATUS = "status"  # session states, heartbeats, counts (pseudonymous)
    EVIDENCE = "evidence"  # read sealed evidence and events
    INCIDENTS = "incidents"  # write and read incident notes
    DECIDE = "decide"  # record a decision about a candidate, erase a sensitive item


def in_window(exam: Exam, now: datetime) -> bool:
    tail = timedelta(seconds=parse_policy(exam.policy).tail_period_seconds)
    return exam.starts_at - WINDOW_MARGIN <= now <= exam.ends_at + tail + WINDOW_MARGIN


def allowed(db: Session, staff: Staff, exam: Exam, purpose: Purpose, now: datetime) -> bool:
    if not staff.is_active or staff.institution_id != exam.institution_id:
        return False
    role = Role(staff.role)
    if role is Role.EXAMINER:
        return False
    if role in (Role.ADMIN, Role.COORDINATOR):
        return purpose in (Purpose.MANAGE, Purpose.STATUS)
    assigned = repository.assignment_roles(db, exam.id, staff.id)
    if purpose is Purpose.MANAGE:
        return False
    if purpose is Purpose.DECIDE:
        return role is Role.REVIEWER and Role.REVIEWER.value in assigned
    if role is Role.INVIGILATOR:
        return Role.INVIGILATOR.value in assigned and in_window(exam, now)
    return Role.REVIEWER.value in assigned


def require(
    db: Session, staff: Staff, exam: Exam | None, purpose: Purpose | tuple[Purpose, ...], now: datetime
) -> Exam:
    """The exam, if ``staff`` may use it for ``purpose`` (or for any one of several purposes)."""
    purposes = purpose if isinstance(purpose, tuple) else (purpose,)
    # Same answer for "no such exam" and "not yours", so ids cannot be probed.
    if exam is None or not any(allowed(db, staff, exam, p, now) for p in purposes):
        raise Forbidden(NO_ACCESS)
    return exam


def require_for(
    db: Session, staff: Staff, thing: Thing | None, purpose: Purpose | tuple[Purpose, ...], now: datetime
) -> Thing:
    """``thing`` (looked up by an id from the request), if ``staff`` may use its exam for ``purpose``.
    A missing thing gets the same 403 as another exam's, so ids cannot be probed."""
    if thing is None:
        raise Forbidden(NO_ACCESS)
    require(db, staff, repository.get(db, thing.exam_id), purpose, now)
    return thing


def check_in_exam(thing: OfAnExam | None, exam: Exam) -> None:
    """A candidate named in a request about ``exam`` (a note, a hold) must be one of its own."""
    if thing is None or thing.exam_id != exam.id:
        raise Invalid("That candidate is not in this exam.")


def require_logged(
    db: Session,
    staff: Staff,
    exam: Exam | None,
    purpose: Purpose,
    now: datetime,
    action: str,
    session_id: str | None = None,
) -> Exam:
    """``require``, then write the read of candidate data to the access log."""
    exam = require(db, staff, exam, purpose, now)
    audit.record(
        db,
        actor_kind="staff",
        actor_id=staff.id,
        action=action,
        at=now,
        exam_id=exam.id,
        session_id=session_id,
    )
    return exam


def visible_exams(db: Session, staff: Staff, now: datetime) -> list[Exam]:
    """The exams a person may see the status of: all of the institution's for admins and
    coordinators, the ones they are assigned to for everyone else."""
    if staff.role in (Role.ADMIN, Role.COORDINATOR):
        exams = repository.exams_of_institution(db, staff.institution_id)
    else:
        exams = repository.assigned_exams(db, staff.id)
    return [e for e in exams if allowed(db, staff, e, Purpose.STATUS, now)]
