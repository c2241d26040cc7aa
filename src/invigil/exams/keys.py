"""Key custody for exams (DESIGN.md §5, docs/adr/0006-key-custody.md): who holds which key, and how
that changes.

- Every exam has one X25519 key pair per retention category (screen, webcam, ...) and generation.
  Evidence of a category is sealed to that category's current key (and to the candidate's own key).
- The private halves exist only sealed (HPKE) to *holders*: the institution's offline recovery key
  and every person granted access. The server cannot open any of them.
- A new generation is made at exam creation, when staff are assigned before anyone has used the
  keys, and when access is revoked. The server sees a new private key only in memory while sealing
  it to the holders' public keys (docs/adr/0002-exam-keys.md).
- Granting access later means sealing one more copy, done by someone who can open the key (a holder
  in the browser, or the admin with the recovery key in the CLI); the server only checks and stores.
- Revoking deletes the person's copies and rotates, so evidence captured afterwards is sealed to
  keys they never had. Invigilators' copies are deleted when the exam window closes.
- Shredding deletes every copy of a category's keys when its retention ends (exams/shredding.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from invigil.accounts.models import Role, Staff, StaffKey
from invigil.audit import service as audit
from invigil.exams import access, facts
from invigil.exams.models import Exam, ExamAssignment, ExamKey, KeyGrant
from invigil.exams.repository import grants_of, live_keys
from invigil.exams.retention import expires_at
from invigil.institutions.models import Institution
from invigil.kit import envelope
from invigil.kit.errors import Conflict, Invalid, NotFound
from invigil.kit.keywrap import private_raw
from invigil.protocol.policy import CATEGORY_OF_KIND, KEY_CATEGORIES
from invigil.sessions.models import ExamSession

HOLDER_ROLES = (Role.INVIGILATOR.value, Role.REVIEWER.value)


def exam_key_info(exam_id: str, kid: str) -> bytes:
    """HPKE ``info`` binding a sealed exam private key to its exam and key id."""
    return b"invigil/v1/exam-key\x00" + exam_id.encode() + b"\x00" + kid.encode()


@dataclass(frozen=True)
class Holder:
    kind: str  # "recovery" | "staff"
    kid: str
    public_key: x25519.X25519PublicKey
    staff_id: str | None = None


# -- queries ----------------------------------------------------------------------------------------
def current_generation(db: Session, exam_id: str) -> int:
    return int(db.scalar(select(func.max(ExamKey.generation)).where(ExamKey.exam_id == exam_id)) or 0)


def staff_key(db: Session, staff_id: str) -> StaffKey | None:
    return db.get(StaffKey, staff_id)


def _holders(db: Session, exam: Exam, institution: Institution, now: datetime) -> list[Holder]:
    """The recovery key and every assigned invigilator (in window) or reviewer who has a key."""
    holders = [
        Holder(
            "recovery",
            institution.recovery_kid,
            envelope.public_key_from_b64(institution.recovery_public_key),
        )
    ]
    for staff, key in _eligible(db, exam, now):
        holders.append(Holder("staff", key.kid, envelope.public_key_from_b64(key.public_key), staff.id))
    return holders


def _eligible(db: Session, exam: Exam, now: datetime) -> list[tuple[Staff, StaffKey]]:
    """Active people assigned to the exam who have a key pair and may hold its keys now (once each)."""
    rows = db.execute(
        select(Staff, StaffKey, ExamAssignment.role)
        .join(ExamAssignment, ExamAssignment.staff_id == Staff.id)
        .join(StaffKey, StaffKey.staff_id == Staff.id)
        .where(ExamAssignment.exam_id == exam.id, Staff.is_active.is_(True))
    ).all()
    out: dict[str, tuple[Staff, StaffKey]] = {}
    for staff, key, role in rows:
        if key.kid not in out and may_hold(staff, exam, role, now):
            out[key.kid] = (staff, key)
    return list(out.values())


def may_hold(staff: Staff, exam: Exam, assigned_role: str, now: datetime) -> bool:
    """Invigilators hold the key only in the exam window, reviewers until retention ends, no one else."""
    if staff.role not in HOLDER_ROLES or assigned_role != staff.role:
        return False
    if staff.role == Role.INVIGILATOR.value:
        return access.in_window(exam, now)
    return True


# -- generations ------------------------------------------------------------------------------------
def new_generation(db: Session, exam: Exam, institution: Institution, now: datetime) -> int:
    """A fresh key per category still within retention, sealed to every holder; the previous retire."""
    generation = current_generation(db, exam.id) + 1
    for old in db.scalars(select(ExamKey).where(ExamKey.exam_id == exam.id, ExamKey.retired_at.is_(None))):
        old.retired_at = now
    holders = _holders(db, exam, institution, now)
    for category in KEY_CATEGORIES:
        if expires_at(exam.ends_at, exam.retention, category) <= now:
            continue  # retention over: this category gets no keys any more
        private_key = x25519.X25519PrivateKey.generate()
        public_key = private_key.public_key()
        kid = envelope.key_id(public_key)
        db.add(
            ExamKey(
                kid=kid,
                exam_id=exam.id,
                category=category,
                generation=generation,
                public_key=envelope.b64e(envelope.raw_public(public_key)),
                created_at=now,
            )
        )
        for holder in holders:
            sealed = envelope.seal_small(
                private_raw(private_key), holder.public_key, exam_key_info(exam.id, kid)
            )
            db.add(
                KeyGrant(
                    exam_kid=kid,
                    holder_kind=holder.kind,
                    holder_kid=holder.kid,
                    holder_staff_id=holder.staff_id,
                    sealed_private_key=envelope.b64e(sealed),
                    created_at=now,
                )
            )
        del private_key
    db.flush()
    facts.forget(exam.id)
    return generation


def keys_in_use(db: Session, exam_id: str) -> bool:
    """Whether any agent may have sealed something to the exam's keys (someone activated)."""
    return (
        db.scalar(
            select(func.count())
            .select_from(ExamSession)
            .where(ExamSession.exam_id == exam_id, ExamSession.activated_at.is_not(None))
        )
        != 0
    )


def rekey_if_unused(db: Session, exam: Exam, institution: Institution, now: datetime) -> bool:
    """Before anyone has activated, new holders get keys by simply making the next generation, and the
    unused previous one is shredded at once. Returns False once keys are in use (then a holder grants)."""
    if keys_in_use(db, exam.id):
        return False
    previous = list(live_keys(db, exam.id))
    new_generation(db, exam, institution, now)
    shred_keys(db, previous, now)
    return True


def _count(result: Any) -> int:
    """Rows a DELETE removed (a CursorResult's rowcount; typed loosely by SQLAlchemy)."""
    return int(result.rowcount or 0)


def shred_keys(db: Session, keys: Iterable[ExamKey], now: datetime) -> int:
    kids = [k.kid for k in keys]
    if not kids:
        return 0
    deleted = _count(db.execute(delete(KeyGrant).where(KeyGrant.exam_kid.in_(kids))))
    for key in keys:
        key.shredded_at = now
        key.retired_at = key.retired_at or now
    db.flush()
    return int(deleted)


# -- what the server accepts ------------------------------------------------------------------------
ROTATION_SKEW = timedelta(minutes=2)  # agent clocks are not ours


class KnowsKeys(Protocol):
    """What ``sealing_key`` needs of a session: which generation its agent was last given, and when."""

    @property
    def key_generation(self) -> int: ...

    @property
    def key_generation_at(self) -> datetime | None: ...


def sealing_key(
    known: facts.ExamFacts,
    session: KnowsKeys,
    kind: str,
    captured_at: datetime,
    recipients: Iterable[str],
) -> str | None:
    """The exam key among ``recipients`` that an item of ``kind`` may be sealed to, or None.

    The category's current key always; a retired one only while this agent had not been given its
    successor yet (it was offline, or between heartbeats), judged by when it captured the item. An
    agent that keeps sealing to a retired key after it was told is refused, so a person whose access
    was revoked never gets evidence captured after that.
    """
    category = CATEGORY_OF_KIND[kind]
    for kid in recipients:
        key = known.keys.get(kid)
        if key is None or key.category != category:
            continue
        if key.generation == known.generation or session.key_generation <= key.generation:
            return kid
        told = session.key_generation_at
        if told is not None and captured_at <= told + ROTATION_SKEW:
            return kid
        raise Invalid(
            "This item was sealed to a retired exam key after the agent had received the new keys; "
            "the agent must seal to the keys it was given."
        )
    return None


# -- grants and revocation --------------------------------------------------------------------------
@dataclass(frozen=True)
class GrantRequest:
    """What someone who holds the exam's keys needs to seal copies for a new holder."""

    staff_id: str
    holder_kid: str
    holder_public_key: str
    missing: list[str]  # exam key ids the person has no copy of yet


def pending_grants(db: Session, exam: Exam, now: datetime) -> list[GrantRequest]:
    """Assigned people who may hold the keys, have a key pair, and lack copies of live keys."""
    live = [k.kid for k in live_keys(db, exam.id)]
    out = []
    for staff, key in _eligible(db, exam, now):
        have = {g.exam_kid for g in grants_of(db, exam.id, key.kid)}
        missing = [kid for kid in live if kid not in have]
        if missing:
            out.append(GrantRequest(staff.id, key.kid, key.public_key, missing))
    return out


def grant(
    db: Session,
    exam: Exam,
    grantee: Staff,
    copies: dict[str, str],
    *,
    actor_kind: str,
    actor_id: str,
    now: datetime,
) -> int:
    """Store sealed copies of exam keys for ``grantee``. The server cannot check that a copy opens
    (it cannot open anything); the holder's own software checks on first use and says so."""
    if grantee.institution_id != exam.institution_id or not grantee.is_active:
        raise NotFound("No such staff member.")
    roles = set(
        db.scalars(
            select(ExamAssignment.role).where(
                ExamAssignment.exam_id == exam.id, ExamAssignment.staff_id == grantee.id
            )
        )
    )
    if not any(may_hold(grantee, exam, role, now) for role in roles):
        raise Invalid(
            f"{grantee.email} cannot hold this exam's key: only invigilators (during the exam window) "
            "and reviewers assigned to the exam can."
        )
    key = staff_key(db, grantee.id)
    if key is None:
        raise Conflict(f"{grantee.email} has not set up a personal key yet.")
    live = {k.kid: k for k in live_keys(db, exam.id)}
    unknown = sorted(set(copies) - set(live))
    if unknown:
        raise Invalid(f"Not a live key of this exam: {', '.join(unknown)}.")
    existing = {g.exam_kid: g for g in grants_of(db, exam.id, key.kid)}
    for kid, sealed_b64 in copies.items():
        try:
            sealed = envelope.b64d(sealed_b64)
        except ValueError as exc:
            raise Invalid(f"The copy of key {kid} is not base64.") from exc
        if len(sealed) != envelope.SEALED_KEY_LEN:
            raise Invalid(f"The copy of key {kid} is not a sealed 32-byte key.")
        row = existing.get(kid)
        if row is None:
            db.add(
                KeyGrant(
                    exam_kid=kid,
                    holder_kind="staff",
                    holder_kid=key.kid,
                    holder_staff_id=grantee.id,
                    sealed_private_key=sealed_b64,
                    created_at=now,
                )
            )
        else:
            row.sealed_private_key = sealed_b64
    audit.record(
        db,
        actor_kind=actor_kind,
        actor_id=actor_id,
        action="key.grant",
        at=now,
        exam_id=exam.id,
        grantee=grantee.id,
        keys=sorted(copies),
    )
    db.flush()
    return len(copies)


def revoke(
    db: Session, exam: Exam, institution: Institution, staff: Staff, *, actor_id: str, now: datetime
) -> int:
    """Remove a person from an exam: their assignment, every copy of its keys, then rotate.

    Returns the new key generation. Evidence captured from now on is sealed to keys they never had;
    what was captured before stays readable to them only if they kept a copy of a key elsewhere,
    which is why rotation happens here and not later.
    """
    db.execute(
        delete(ExamAssignment).where(ExamAssignment.exam_id == exam.id, ExamAssignment.staff_id == staff.id)
    )
    removed = _delete_grants_of(db, exam.id, staff.id)
    generation = new_generation(db, exam, institution, now)
    audit.record(
        db,
        actor_kind="staff",
        actor_id=actor_id,
        action="key.revoke",
        at=now,
        exam_id=exam.id,
        revoked=staff.id,
        copies_deleted=removed,
        generation=generation,
    )
    return generation


def _delete_grants_of(db: Session, exam_id: str, staff_id: str) -> int:
    kids = select(ExamKey.kid).where(ExamKey.exam_id == exam_id)
    result = db.execute(
        delete(KeyGrant).where(KeyGrant.holder_staff_id == staff_id, KeyGrant.exam_kid.in_(kids))
    )
    return _count(result)


def expire_window_grants(db: Session, now: datetime) -> int:
    """Delete invigilators' copies of keys of exams whose window has closed (called by the sweeper)."""
    rows = db.execute(
        select(KeyGrant.id, Exam)
        .join(ExamKey, ExamKey.kid == KeyGrant.exam_kid)
        .join(Exam, Exam.id == ExamKey.exam_id)
        .join(Staff, Staff.id == KeyGrant.holder_staff_id)
        .where(Staff.role == Role.INVIGILATOR.value, Exam.ends_at < now)
    ).all()
    expired = [grant_id for grant_id, exam in rows if not access.in_window(exam, now)]
    if expired:
        db.execute(delete(KeyGrant).where(KeyGrant.id.in_(expired)))
    return len(expired)


# -- opening (on the holder's side: CLI and tests; the browser has its own module) -------------------
def open_exam_keys(
    db: Session, exam_id: str, holder: x25519.X25519PrivateKey
) -> dict[str, x25519.X25519PrivateKey]:
    """Every exam private key sealed to ``holder``, by key id."""
    holder_kid = envelope.key_id(holder.public_key())
    grants = grants_of(db, exam_id, holder_kid)
    if not grants:
        raise NotFound("This key holds no copy of this exam's keys.")
    keys = {}
    for row in grants:
        raw = envelope.open_small(
            envelope.b64d(row.sealed_private_key), holder, exam_key_info(exam_id, row.exam_kid)
        )
        private_key = x25519.X25519PrivateKey.from_private_bytes(raw)
        if envelope.key_id(private_key.public_key()) != row.exam_kid:
            raise envelope.TamperedEnvelope(f"the copy of key {row.exam_kid} holds another key")
        keys[row.exam_kid] = private_key
    return keys


def seal_copies(
    db: Session,
    exam_id: str,
    opened: dict[str, x25519.X25519PrivateKey],
    grantee_public_key: str,
    kids: list[str],
) -> dict[str, str]:
    """Seal the opened exam keys ``kids`` to a grantee's public key (the granting side's half)."""
    recipient = envelope.public_key_from_b64(grantee_public_key)
    missing = [kid for kid in kids if kid not in opened]
    if missing:
        raise NotFound(f"You hold no copy of key(s) {', '.join(missing)}, so you cannot pass them on.")
    return {
        kid: envelope.b64e(
            envelope.seal_small(private_raw(opened[kid]), recipient, exam_key_info(exam_id, kid))
        )
        for kid in kids
    }


def rotate_recovery(
    db: Session,
    institution: Institution,
    old: x25519.X25519PrivateKey,
    new_public: x25519.X25519PublicKey,
    now: datetime,
) -> int:
    """Re-seal every live exam key from the old recovery key to a new one; the old file is then useless
    for everything made or shredded from now on (keep no copies of it)."""
    old_kid = envelope.key_id(old.public_key())
    if old_kid != institution.recovery_kid:
        raise Invalid("That is not the institution's current recovery key.")
    new_kid = envelope.key_id(new_public)
    rows = db.execute(
        select(KeyGrant, ExamKey.exam_id)
        .join(ExamKey, ExamKey.kid == KeyGrant.exam_kid)
        .where(KeyGrant.holder_kind == "recovery", KeyGrant.holder_kid == old_kid)
    ).all()
    for row, exam_id in rows:
        info = exam_key_info(exam_id, row.exam_kid)
        raw = envelope.open_small(envelope.b64d(row.sealed_private_key), old, info)
        row.sealed_private_key = envelope.b64e(envelope.seal_small(raw, new_public, info))
        row.holder_kid = new_kid
    institution.recovery_kid = new_kid
    institution.recovery_public_key = envelope.b64e(envelope.raw_public(new_public))
    audit.record(
        db, actor_kind="recovery-key", actor_id=old_kid, action="key.rotate_recovery", at=now, new=new_kid
    )
    db.flush()
    return len(rows)
