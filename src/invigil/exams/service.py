"""Exam rules: creation with its key, candidates, activation codes, staff assignments."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from invigil.accounts.models import Role, Staff
from invigil.audit import service as audit
from invigil.exams import keys, repository
from invigil.exams.models import Candidate, CandidateIdentity, Exam, ExamAssignment
from invigil.exams.retention import Retention, parse_retention
from invigil.institutions.models import Institution
from invigil.kit import tokens
from invigil.kit.clock import utcnow
from invigil.kit.errors import Conflict, Invalid, NotFound
from invigil.protocol.policy import Policy, parse_policy
from invigil.sessions.models import ExamSession

MAX_EXAM_HOURS = 24


def _checked(
    institution: Institution,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    region: str | None,
    policy: dict[str, Any] | None,
    retention: dict[str, Any] | None,
) -> tuple[str, Policy, Retention]:
    """The rules every exam's settings follow, at creation and on every change."""
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise Invalid("The exam needs a title of 1 to 200 characters.")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(f"'{timezone}' is not a known time zone; use a name like Europe/Copenhagen.") from exc
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise Invalid("Start and end times need a time zone offset.")
    if ends_at <= starts_at:
        raise Invalid("The exam must end after it starts.")
    if ends_at - starts_at > timedelta(hours=MAX_EXAM_HOURS):
        raise Invalid(f"An exam can last at most {MAX_EXAM_HOURS} hours.")
    if region and region != institution.region:
        raise Invalid(
            f"Exams of this institution are stored in its region, {institution.region!r}; "
            f"{region!r} is not available to it."
        )
    checked_policy = parse_policy(policy)
    merged_retention = {**(institution.default_retention or {}), **(retention or {})}
    checked_retention = parse_retention(merged_retention)
    return title, checked_policy, checked_retention


def create_exam(
    db: Session,
    institution: Institution,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    policy: dict[str, Any] | None = None,
    retention: dict[str, Any] | None = None,
    region: str | None = None,
    created_by: Staff | None = None,
) -> Exam:
    title, checked_policy, checked_retention = _checked(
        institution, title, starts_at, ends_at, timezone, region, policy, retention
    )
    exam = Exam(
        institution_id=institution.id,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        region=region or institution.region,
        policy=checked_policy.model_dump(mode="json"),
        retention=checked_retention.model_dump(mode="json"),
        created_by=created_by.id if created_by else None,
    )
    db.add(exam)
    db.flush()
    keys.new_generation(db, exam, institution, utcnow())
    _changed(
        db,
        created_by.id if created_by else None,
        "exam.create",
        exam.id,
        title=exam.title,
        policy=exam.policy,
        retention=exam.retention,
        region=exam.region,
    )
    return exam


def update_exam(
    db: Session,
    exam: Exam,
    institution: Institution,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    timezone: str,
    policy: dict[str, Any] | None,
    retention: dict[str, Any] | None,
    by: str | None = None,
) -> Exam:
    """Change an exam's settings, under the rules of ``create_exam``. Only until the first candidate
    activates: from then on agents hold the policy and have sealed evidence to the exam's keys, and
    the candidates acknowledged the privacy notice generated from these settings."""
    if keys.keys_in_use(db, exam.id):
        raise Conflict(
            "A candidate has already activated this exam, so its settings can no longer change: they "
            "were told what is collected and for how long. Create a new exam if the setup must differ."
        )
    title, checked_policy, checked_retention = _checked(
        institution, title, starts_at, ends_at, timezone, exam.region, policy, retention
    )
    before = {"policy": exam.policy, "retention": exam.retention}
    exam.title, exam.starts_at, exam.ends_at, exam.timezone = title, starts_at, ends_at, timezone
    exam.policy = checked_policy.model_dump(mode="json")
    exam.retention = checked_retention.model_dump(mode="json")
    _changed(
        db,
        by,
        "exam.update",
        exam.id,
        title=exam.title,
        starts_at=exam.starts_at.isoformat(),
        ends_at=exam.ends_at.isoformat(),
        policy_changed=before["policy"] != exam.policy,
        policy=exam.policy,
        retention=exam.retention,
    )
    return exam


def _changed(db: Session, by: str | None, action: str, exam_id: str, **detail: Any) -> None:
    """A change to an exam, its candidates or its people, in the access log (by a person or a script)."""
    audit.record(
        db,
        actor_kind="staff" if by else "system",
        actor_id=by or "cli",
        action=action,
        at=utcnow(),
        exam_id=exam_id,
        **detail,
    )


@dataclass(frozen=True)
class IssuedCode:
    candidate_id: str
    pseudonym: str
    session_id: str
    code: str  # shown once; only its hash is stored
    expires_at: datetime


def _new_pseudonym(taken: set[str]) -> str:
    while True:
        value = "C-" + "".join(secrets.choice(tokens.CODE_ALPHABET) for _ in range(6))
        if value not in taken:
            taken.add(value)
            return value


def add_candidates(
    db: Session,
    exam: Exam,
    people: list[dict[str, str]],
    code_valid_until: datetime | None = None,
    by: str | None = None,
) -> list[IssuedCode]:
    """Register candidates (identity kept apart) and issue one activation code each."""
    taken = repository.pseudonyms(db, exam.id)
    expires = code_valid_until or exam.ends_at
    issued = []
    for person in people:
        pseudonym = person.get("pseudonym") or _new_pseudonym(taken)
        if pseudonym in taken and person.get("pseudonym"):
            raise Conflict(f"Candidate {pseudonym} is already registered for this exam.")
        taken.add(pseudonym)
        candidate = Candidate(exam_id=exam.id, pseudonym=pseudonym)
        db.add(candidate)
        db.flush()
        db.add(
            CandidateIdentity(
                candidate_id=candidate.id,
                full_name=person.get("full_name", ""),
                email=person.get("email", ""),
                student_number=person.get("student_number", ""),
            )
        )
        code = tokens.new_activation_code()
        session = ExamSession(
            exam_id=exam.id,
            candidate_id=candidate.id,
            code_hash=tokens.token_hash(code),
            code_expires_at=expires,
        )
        db.add(session)
        db.flush()
        issued.append(IssuedCode(candidate.id, pseudonym, session.id, code, expires))
    _changed(db, by, "candidates.add", exam.id, candidates=len(issued))  # no names in the log
    return issued


def reissue_code(db: Session, session: ExamSession, by: str | None = None) -> str:
    """A lost letter: replace the code. Only possible before the old one was used."""
    if session.code_used_at is not None:
        raise Conflict("This candidate's code was already used; a new one cannot be issued.")
    code = tokens.new_activation_code()
    session.code_hash = tokens.token_hash(code)
    session.code_expires_at = max(session.code_expires_at, utcnow())
    _changed(db, by, "code.reissue", session.exam_id, session_id=session.id)
    return code


def assign(db: Session, exam: Exam, staff: Staff, role: Role, by: str | None = None) -> ExamAssignment:
    """Give a person access to an exam. Before any candidate has activated, this also re-keys the exam
    so the person holds its keys at once; afterwards a key holder must grant them (exams/keys.py)."""
    if role not in (Role.INVIGILATOR, Role.REVIEWER):
        raise Invalid("Only invigilators and reviewers are assigned to exams.")
    if staff.role != role.value:
        raise Invalid(f"{staff.email} is a {staff.role}, not a {role.value}.")
    if staff.institution_id != exam.institution_id:
        raise NotFound("No such staff member.")
    assignment = ExamAssignment(exam_id=exam.id, staff_id=staff.id, role=role.value)
    db.add(assignment)
    db.flush()
    institution = db.get(Institution, exam.institution_id)
    assert institution is not None
    keys.rekey_if_unused(db, exam, institution, utcnow())
    _changed(db, by, "exam.assign", exam.id, staff=staff.id, role=role.value)
    return assignment
