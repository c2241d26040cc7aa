"""A person's key pair on the server: public key and passphrase-wrapped private key, nothing more.

The key pair is made and wrapped on the person's side (browser or CLI); the server checks what it
can (sizes, KDF strength, that the public key never changes) and stores it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from invigil.accounts.models import Staff, StaffKey
from invigil.audit import service as audit
from invigil.kit import envelope
from invigil.kit.errors import Conflict, Invalid
from invigil.kit.keywrap import KeyFileError, check_wrapped


def set_key(
    db: Session, staff: Staff, public_key: str, wrapped: Any, *, min_iterations: int, now: datetime
) -> StaffKey:
    """First call: register the key pair. Later calls: a new passphrase (same public key) only."""
    try:
        kid = envelope.key_id(envelope.public_key_from_b64(public_key))
        checked = check_wrapped(wrapped, min_iterations)
    except ValueError as exc:
        raise Invalid("public_key is not a base64 X25519 public key.") from exc
    except KeyFileError as exc:
        raise Invalid(f"The wrapped key is not acceptable: {exc}.") from exc
    row = db.get(StaffKey, staff.id)
    if row is None:
        row = StaffKey(staff_id=staff.id, kid=kid, public_key=public_key, wrapped=checked, created_at=now)
        db.add(row)
        action = "key.create"
    elif row.kid != kid:
        raise Conflict(
            "Your key pair cannot be replaced: exam keys are sealed to it. To change your passphrase, "
            "wrap the same key again."
        )
    else:
        row.wrapped = checked
        action = "key.rewrap"
    row.updated_at = now
    audit.record(db, actor_kind="staff", actor_id=staff.id, action=action, at=now, kid=kid)
    db.flush()
    return row


def describe(row: StaffKey) -> dict[str, Any]:
    return {"kid": row.kid, "public_key": row.public_key, "wrapped": row.wrapped}
