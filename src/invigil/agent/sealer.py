"""Seal captured plaintext before it touches the disk: to the exam's key for the item's retention
category, and to the candidate's own key (so they can open their data with their receipt secret)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.kit import envelope
from invigil.protocol import v1
from invigil.protocol.policy import CATEGORY_OF_KIND


@dataclass(frozen=True)
class Sealed:
    item_id: str
    kind: str
    data: bytes
    sha256: str


class Sealer:
    def __init__(
        self, exam_id: str, session_id: str, keys: v1.KeySet, candidate_key: x25519.X25519PublicKey
    ) -> None:
        self.exam_id, self.session_id, self.candidate_key = exam_id, session_id, candidate_key
        self._lock = threading.Lock()
        self.use(keys)

    @property
    def generation(self) -> int:
        return self._keys.generation

    def use(self, keys: v1.KeySet) -> None:
        """Switch to a new key generation (after a rotation): every later seal uses it."""
        parsed = {c: envelope.public_key_from_b64(k.public_key) for c, k in keys.keys.items()}
        with self._lock:
            self._keys, self._public = keys, parsed

    def seal(self, kind: str, plaintext: bytes) -> Sealed:
        with self._lock:
            exam_key = self._public.get(CATEGORY_OF_KIND[kind])
        if exam_key is None:
            raise ValueError(f"the exam has no key for {kind} (its retention has ended)")
        item_id = uuid.uuid4().hex
        ctx = envelope.Context(self.exam_id, self.session_id, item_id, kind)
        data = envelope.seal_bytes(plaintext, ctx, [exam_key, self.candidate_key])
        return Sealed(item_id, kind, data, hashlib.sha256(data).hexdigest())
