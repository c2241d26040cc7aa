"""An administrator's changes to staff accounts: a new role, deactivation.

A person's access to exams follows their role (exams/access.py) and their assignments, and their
copies of exam keys follow the assignments (exams/keys.py). So a change of role or a deactivation
removes them from every exam they were assigned to, the same way ``keys.revoke`` does for one exam:
assignment and key copies deleted, the exam's keys rotated. Their login sessions end at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from invigil.accounts.models import Role, Staff, StaffToken, WebSession
from invigil.audit import service as audit
from invigil.exams import keys
from invigil.exams import repository as exams_repo
from invigil.institutions.models import Institution
from invigil.kit.errors import Conflict, Invalid


def _not_yourself(staff: Staff, by: str, what: str) -> None:
    if staff.id == by:
        raise Conflict(f"You cannot {what} your own account; ask another administrator.")


def _leave_exams(db: Session, staff: Staff, by: str, now: datetime) -> list[str]:
    institution = db.get(Institution, staff.institution_id)
    assert institution is not None
    left = []
    for exam in exams_repo.assigned_exams(db, staff.id):
        keys.revoke(db, exam, institution, staff, actor_id=by, now=now)
        left.append(exam.id)
    return left


def _end_logins(db: Session, staff: Staff) -> None:
    db.execute(delete(WebSession).where(WebSession.staff_id == staff.id))
    db.execute(delete(StaffToken).where(StaffToken.staff_id == staff.id))


def change_role(db: Session, staff: Staff, role: str, by: str, now: datetime) -> list[str]:
    """Give ``staff`` another role; returns the exams they were removed from."""
    try:
        new = Role(role)
    except ValueError as exc:
        raise Invalid(f"'{role}' is not a role; choose one of {', '.join(r.value for r in Role)}.") from exc
    _not_yourself(staff, by, "change the role of")
    if not staff.is_active:
        raise Conflict(f"{staff.email} is deactivated; a deactivated account keeps its last role.")
    if new.value == staff.role:
        raise Invalid(f"{staff.email} already is a {new.value}.")
    before = staff.role
    left = _leave_exams(db, staff, by, now)
    staff.role = new.value
    _end_logins(db, staff)
    audit.record(
        db,
        actor_kind="staff",
        actor_id=by,
        action="staff.role",
        at=now,
        staff=staff.id,
        role=new.value,
        previous=before,
        exams_left=len(left),
    )
    return left


def deactivate(db: Session, staff: Staff, by: str, now: datetime) -> list[str]:
    """Close an account for good (it stays, for the access log's sake); returns the exams left."""
    _not_yourself(staff, by, "deactivate")
    if not staff.is_active:
        raise Conflict(f"{staff.email} is already deactivated.")
    left = _leave_exams(db, staff, by, now)
    staff.is_active = False
    _end_logins(db, staff)
    audit.record(
        db,
        actor_kind="staff",
        actor_id=by,
        action="staff.deactivate",
        at=now,
        staff=staff.id,
        exams_left=len(left),
    )
    return left
