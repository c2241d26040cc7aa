"""Activation in a few Core statements, for the common case only: an unused code, inside its window,
with a well-formed candidate key — the privacy notice either accepted (the code is used) or not yet
(the 409 that shows it).

Every candidate of an exam activates within the same half hour, twice (once to be shown the notice,
once with its version), so at 10,000 candidates this is a burst of thousands of requests a minute.
Through FastAPI and the ORM an attempt cost 1.4 to 2.3 ms of server CPU and, in the load test, set the
whole run's p99 (docs/benchmarks.md). Here an attempt is one group-commit unit (kit/groupcommit.py):
three indexed statements on the session's connection — the wrong-code count, one read of the code's
session, candidate, exam and institution, and the write, one conditional ``UPDATE``.

The rules are ``service``'s: the same refusals (``service.refusal``, ``service.notice_refusal``), the
same notice version (``notice.current_version``), the same key check and the same answer. Anything
else — an unknown or used code (the wrong-code counter, the idempotent retry, "already used"), a key
that does not parse — returns None, and the caller takes ``service.activate``, which words the error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from invigil.exams.facts import facts as exam_facts
from invigil.exams.models import Candidate, Exam
from invigil.institutions.models import Institution
from invigil.kit import minimal, tokens
from invigil.kit.errors import DomainError, Invalid, TooManyRequests
from invigil.privacy import notice
from invigil.protocol import v1
from invigil.sessions import ratelimit, service
from invigil.sessions.models import ExamSession
from invigil.sessions.states import State

_sessions = cast(Table, ExamSession.__table__)
_exams = cast(Table, Exam.__table__)
_institutions = cast(Table, Institution.__table__)
_candidates = cast(Table, Candidate.__table__)
_s = _sessions.c

class _Session(NamedTuple):
    id: str
    exam_id: str
    state: str
    code_expires_at: datetime
    code_used_at: datetime | None
    pseudonym: str


class _Exam(NamedTuple):
    id: str
    institution_id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    region: str
    policy: dict[str, Any]
    retention: dict[str, Any]


class _Institution(NamedTuple):
    name: str
    region: str
    dpo_contact: str
    privacy: dict[str, Any]


# Built once: constructing and cache-keying a statement costs more than running it on SQLite. The
# code's session with its candidate, exam and institution in one read: on PostgreSQL each statement
# is a round trip, and 10,000 candidates activate twice each within minutes.
_BY_CODE = (
    select(
        *(_candidates.c.pseudonym if name == "pseudonym" else _s[name] for name in _Session._fields),
        *(_exams.c[name].label(f"e_{name}") for name in _Exam._fields),
        *(_institutions.c[name].label(f"i_{name}") for name in _Institution._fields),
    )
    .join(_candidates, _candidates.c.id == _s.candidate_id)
    .join(_exams, _exams.c.id == _s.exam_id)
    .join(_institutions, _institutions.c.id == _exams.c.institution_id)
    .where(_s.code_hash == bindparam("b_code_hash"))
)
_CUTS = (len(_Session._fields), len(_Session._fields) + len(_Exam._fields))
# Conditional: a concurrent attempt with the same code (another worker, a retry) finds no row and
# goes the full way, which answers it as a retry or as "already used".
_USE_CODE = (
    update(_sessions)
    .where(
        _s.id == bindparam("b_id"),
        _s.code_hash == bindparam("b_code_hash"),  # not reissued meanwhile
        _s.state == State.ISSUED.value,
        _s.code_used_at.is_(None),
    )
    .values(
        state=State.ACTIVATED.value,
        code_used_at=bindparam("b_now"),
        activated_at=bindparam("b_now"),
        notice_version=bindparam("b_notice"),
        notice_accepted_at=bindparam("b_now"),
        token_hash=bindparam("b_token_hash"),
        agent_info=bindparam("b_agent"),
        candidate_public_key=bindparam("b_public_key"),
        candidate_kid=bindparam("b_kid"),
        key_generation=bindparam("b_generation"),
        key_generation_at=bindparam("b_now"),
    )
    .returning(_s.id)
)


def attempt(
    db: Session,
    req: v1.ActivateRequest,
    bucket: str,
    now: datetime,
    limits: service.Limits,
    max_failures: int,
    window_seconds: int,
) -> v1.ActivateResponse | DomainError | None:
    """The answer, or the refusal to raise (returned, not raised: a group-commit unit that raises
    makes its whole batch run again one by one), or None: take ``service.activate``. Writes only
    when it answers."""
    try:
        ratelimit.check(db, bucket, now, max_failures, window_seconds)
    except TooManyRequests as limited:
        return limited
    code = tokens.normalize_activation_code(req.code)
    if not code:
        return None
    conn = db.connection()
    code_hash = tokens.token_hash(code)
    row = conn.execute(_BY_CODE, {"b_code_hash": code_hash}).first()
    if row is None or row.code_used_at is not None:
        return None
    session, exam = _Session(*row[: _CUTS[0]]), _Exam(*row[_CUTS[0] : _CUTS[1]])
    institution = _Institution(*row[_CUTS[1] :])
    refused = service.refusal(session, exam, now)
    if refused is not None:
        return refused
    try:
        kid = service.candidate_kid(req.candidate_public_key)
    except Invalid:
        return None
    try:
        current = notice.current_version(exam, institution)
        key_set = exam_facts(db, exam.id).key_set()  # 503 while the exam has no key yet
    except DomainError as unavailable:
        return unavailable
    refused = service.notice_refusal(exam.id, current, req.notice_version)
    if refused is not None:
        return refused
    params = {
        "b_id": session.id,
        "b_code_hash": code_hash,
        "b_now": now,
        "b_notice": current,
        "b_token_hash": tokens.token_hash(req.session_secret),
        "b_agent": minimal.generalise_agent(req.agent),  # never host names or builds
        "b_public_key": req.candidate_public_key,
        "b_kid": kid,
        "b_generation": key_set.generation,
    }
    if conn.execute(_USE_CODE, params).first() is None:
        return None
    return service.activation_answer(session.id, session.pseudonym, exam, key_set, limits)
