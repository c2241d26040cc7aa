"""What the agent API needs to know about an exam on every request, cached briefly per process.

Policies and keys change rarely (a policy edit, a key rotation); reading and validating them on every
heartbeat and upload was the largest cost of those requests. Entries live ``TTL`` seconds, so another
API node sees a change within that time; this node forgets an exam at once when it changes it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from invigil.exams import repository
from invigil.kit.errors import ServiceUnavailable
from invigil.protocol import v1
from invigil.protocol.policy import Policy, parse_policy

TTL = 10.0


@dataclass(frozen=True)
class KeyFacts:
    kid: str
    category: str
    generation: int
    public_key: str


@dataclass(frozen=True)
class ExamFacts:
    exam_id: str
    policy: Policy
    generation: int
    current: dict[str, KeyFacts]  # retention category -> the key to seal to now
    keys: dict[str, KeyFacts]  # every key not shredded, retired ones included (late uploads)

    def key_set(self) -> v1.KeySet:
        return v1.KeySet(
            generation=self.generation,
            keys={c: v1.ExamPublicKey(kid=k.kid, public_key=k.public_key) for c, k in self.current.items()},
        )


_cache: dict[str, tuple[float, ExamFacts]] = {}
_lock = threading.Lock()


def facts(db: Session, exam_id: str, fresh: bool = False) -> ExamFacts:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(exam_id)
    if hit is not None and now - hit[0] < TTL and not fresh:
        return hit[1]
    exam = repository.get(db, exam_id)
    rows = repository.live_keys(db, exam_id)
    if exam is None or not rows:
        raise ServiceUnavailable("This exam has no key yet; the exam office must finish setting it up.")
    keys = {k.kid: KeyFacts(k.kid, k.category, k.generation, k.public_key) for k in rows}
    generation = max(k.generation for k in keys.values())
    value = ExamFacts(
        exam_id=exam_id,
        policy=parse_policy(exam.policy),
        generation=generation,
        current={k.category: k for k in keys.values() if k.generation == generation},
        keys=keys,
    )
    with _lock:
        _cache[exam_id] = (now, value)
    return value


def forget(exam_id: str) -> None:
    """Call after changing an exam's policy or keys."""
    with _lock:
        _cache.pop(exam_id, None)
