"""Seal captured plaintext for the exam before it touches the disk."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.kit import envelope


@dataclass(frozen=True)
class Sealed:
    item_id: str
    kind: str
    data: bytes
    sha256: str


class Sealer:
    def __init__(self, exam_id: str, session_id: str, recipients: list[x25519.X25519PublicKey]) -> None:
        self.exam_id, self.session_id, self.recipients = exam_id, session_id, recipients

    def seal(self, kind: str, plaintext: bytes) -> Sealed:
        item_id = uuid.uuid4().hex
        ctx = envelope.Context(self.exam_id, self.session_id, item_id, kind)
        data = envelope.seal_bytes(plaintext, ctx, self.recipients)
        return Sealed(item_id, kind, data, hashlib.sha256(data).hexdigest())
