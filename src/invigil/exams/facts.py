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
from invigil.protocol.policy import Policy, parse_policy

TTL = 10.0


@dataclass(frozen=True)
class ExamFacts:
    exam_id: str
    policy: Policy
    key_ids: frozenset[str]  # every key of the exam, retired ones included (late uploads)
    current_kid: str
    current_public_key: str


_cache: dict[str, tuple[float, ExamFacts]] = {}
_lock = threading.Lock()


def facts(db: Session, exam_id: str) -> ExamFacts:
    now = time.monotonic()
    with _lock:
        hit = _cache.get(exam_id)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    exam = repository.get(db, exam_id)
    key = repository.current_key(db, exam_id)
    if exam is None or key is None:
        raise ServiceUnavailable("This exam has no key yet; the exam office must finish setting it up.")
    value = ExamFacts(
        exam_id=exam_id,
        policy=parse_policy(exam.policy),
        key_ids=frozenset(repository.key_ids(db, exam_id)),
        current_kid=key.kid,
        current_public_key=key.public_key,
    )
    with _lock:
        _cache[exam_id] = (now, value)
    return value


def forget(exam_id: str) -> None:
    """Call after changing an exam's policy or keys."""
    with _lock:
        _cache.pop(exam_id, None)
