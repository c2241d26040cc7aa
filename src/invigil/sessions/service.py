"""The agent side of a session: activate, heartbeat, events, hand-in, close; and the sweeper."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from invigil.evidence.models import EvidenceItem
from invigil.exams import repository as exams_repo
from invigil.exams.facts import facts as exam_facts
from invigil.exams.models import Candidate, Exam
from invigil.institutions.models import Institution
from invigil.kit import envelope, minimal, rawsql, signing, tokens
from invigil.kit.clock import iso
from invigil.kit.errors import Conflict, DomainError, Forbidden, Gone, Invalid, Unauthorized
from invigil.privacy import notice
from invigil.protocol import v1
from invigil.protocol.policy import parse_policy
from invigil.sessions import repository
from invigil.sessions.models import Event, ExamSession, Handin, OfflinePeriod
from invigil.sessions.states import BEFORE_HANDIN, LIVE, State, move

ACTIVATION_OPENS_BEFORE = timedelta(minutes=30)
MAX_EVENT_DATA = 4096


class WrongCode(Unauthorized):
    code = "invalid_code"


@dataclass(frozen=True)
class Limits:
    heartbeat_interval_seconds: int
    max_chunk_bytes: int
    offline_after_seconds: int


class Schedule(Protocol):
    """What activation needs of an exam's schedule: an ``Exam``, or a row with these columns."""

    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...


class ExamDetails(Schedule, Protocol):
    """What the activation answer tells of an exam."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def policy(self) -> dict[str, Any]: ...


class CodeState(Protocol):
    """What activation needs of a session: an ``ExamSession``, or a row with these columns."""

    @property
    def state(self) -> str: ...
    @property
    def code_expires_at(self) -> datetime: ...


def _describe(when: datetime, exam: Schedule) -> str:
    from zoneinfo import ZoneInfo

    return when.astimezone(ZoneInfo(exam.timezone)).strftime("%d %b %Y at %H:%M %Z")


class NoticeNotAccepted(Conflict):
    code = "notice"


def refusal(session: CodeState, exam: Schedule, now: datetime) -> DomainError | None:
    """Why a code not used before cannot activate now, or None if it can."""
    if State(session.state) is not State.ISSUED:
        return Gone("This activation code can no longer be used.")
    if now > session.code_expires_at or now > exam.ends_at:
        return Gone(
            f"This activation code expired on {_describe(min(session.code_expires_at, exam.ends_at), exam)}. "
            "Ask the exam office for help."
        )
    if now < exam.starts_at - ACTIVATION_OPENS_BEFORE:
        return Forbidden(
            f"This exam opens for activation 30 minutes before it starts, on "
            f"{_describe(exam.starts_at - ACTIVATION_OPENS_BEFORE, exam)}."
        )
    return None


def notice_refusal(exam_id: str, current: str, version: str | None) -> NoticeNotAccepted | None:
    """Nothing is recorded before the candidate has read what will be, and why: None if ``version``
    is the current notice's, else a 409 that says where to read it (the code is not used up by it)."""
    if version == current:
        return None
    return NoticeNotAccepted(
        "Read what will be recorded during this exam and why, then confirm: the agent shows the "
        "privacy notice and activates again.",
        notice_version=current,
        notice_url=f"/api/v1/exams/{exam_id}/privacy-notice",
    )


def candidate_kid(public_key_b64: str) -> str:
    try:
        return envelope.key_id(envelope.public_key_from_b64(public_key_b64))
    except ValueError as exc:
        raise Invalid("candidate_public_key is not a base64 X25519 public key.") from exc


def activate(db: Session, req: v1.ActivateRequest, now: datetime, limits: Limits) -> v1.ActivateResponse:
    """Every case of activation (the common one also runs as Core statements: fastactivate.py)."""
    code = tokens.normalize_activation_code(req.code)
    session = repository.by_code_hash(db, tokens.token_hash(code)) if code else None
    if session is None:
        raise WrongCode(
            "This activation code is not valid. Check the code on your exam letter "
            "(it looks like ABCD-EFGH-JKMN-PQRS)."
        )
    exam = exams_repo.get(db, session.exam_id)
    assert exam is not None
    secret_hash = tokens.token_hash(req.session_secret)
    if session.code_used_at is not None:
        if session.token_hash is not None and tokens.same(session.token_hash, secret_hash):
            if State(session.state) not in LIVE:
                raise Gone("This exam session has ended.")
            return _activation_response(db, session, exam, limits, now)  # a retry: same answer
        raise Conflict(
            f"This activation code was already used on {_describe(session.code_used_at, exam)}. "
            "Each code works once; if you did not use it, tell the invigilator now."
        )
    refused = refusal(session, exam, now)
    if refused is not None:
        raise refused
    kid = candidate_kid(req.candidate_public_key)
    institution = db.get(Institution, exam.institution_id)
    assert institution is not None
    current = notice.current_version(exam, institution)
    refused = notice_refusal(exam.id, current, req.notice_version)
    if refused is not None:
        raise refused
    session.notice_version = current
    session.notice_accepted_at = now
    session.code_used_at = now
    session.activated_at = now
    session.token_hash = secret_hash
    session.agent_info = minimal.generalise_agent(req.agent)  # never host names or builds
    session.candidate_public_key = req.candidate_public_key
    session.candidate_kid = kid
    move(session, State.ACTIVATED)
    return _activation_response(db, session, exam, limits, now)


def _activation_response(
    db: Session, session: ExamSession, exam: Exam, limits: Limits, now: datetime
) -> v1.ActivateResponse:
    key_set = keys(db, session, now)
    candidate = db.get(Candidate, session.candidate_id)
    assert candidate is not None
    return activation_answer(session.id, candidate.pseudonym, exam, key_set, limits)


def activation_answer(
    session_id: str, pseudonym: str, exam: ExamDetails, key_set: v1.KeySet, limits: Limits
) -> v1.ActivateResponse:
    return v1.ActivateResponse(
        session_id=session_id,
        candidate=pseudonym,
        exam=v1.ExamInfo(
            id=exam.id,
            title=exam.title,
            starts_at=exam.starts_at,
            ends_at=exam.ends_at,
            timezone=exam.timezone,
        ),
        keys=key_set,
        policy=exam.policy,
        heartbeat_interval_seconds=limits.heartbeat_interval_seconds,
        max_chunk_bytes=limits.max_chunk_bytes,
    )


def authenticate(db: Session, token: str | None) -> ExamSession:
    """The agent's bearer token -> its live session."""
    if not token:
        raise Unauthorized("This request needs the session token from activation.")
    session = repository.by_token_hash(db, tokens.token_hash(token))
    if session is None:
        raise Unauthorized("This session token is not valid.")
    if State(session.state) not in LIVE:
        raise Unauthorized(f"This exam session has ended ({session.state}); the token no longer works.")
    return session


def _end_offline(db: Session, session: ExamSession, now: datetime) -> None:
    if session.offline_since is None:
        return
    period = repository.open_offline_period(db, session.id)
    if period is not None:
        period.ended_at = now
    session.offline_since = None


def heartbeat(db: Session, session: ExamSession, hb: v1.Heartbeat, now: datetime) -> v1.HeartbeatAck:
    if hb.seq > session.last_seq:  # older or replayed heartbeats change nothing
        session.last_seq = hb.seq
        session.last_heartbeat_at = now
        _end_offline(db, session, now)
        state = State(session.state)
        if state in (State.ACTIVATED, State.OFFLINE):
            move(session, State.RUNNING)
        elif state is State.HANDED_IN and hb.phase == "tail":
            move(session, State.TAIL)
    return heartbeat_ack(db, session.exam_id, session.state, now)


def heartbeat_ack(db: Session, exam_id: str, state: str, now: datetime) -> v1.HeartbeatAck:
    """The answer to a heartbeat (also built by hotpath.heartbeat for the common case)."""
    return v1.HeartbeatAck(state=state, server_time=now, key_generation=exam_facts(db, exam_id).generation)


def keys(db: Session, session: ExamSession, now: datetime) -> v1.KeySet:
    """The exam's current public keys, and a note of which generation this agent now has."""
    key_set = exam_facts(db, session.exam_id).key_set()
    if key_set.generation != session.key_generation:
        session.key_generation = key_set.generation
        session.key_generation_at = now
    return key_set


_INSERT_EVENTS = rawsql.InsertIgnore(
    cast(Table, Event.__table__),
    ["session_id", "client_id", "type", "at", "score", "severity", "data", "received_at"],
    unique=["session_id", "client_id"],
    returning="client_id",
)


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


def record_events(
    db: Session, session: _HasId, batch: v1.EventBatch, now: datetime, max_batch: int
) -> v1.EventBatchAck:
    rows = event_rows(session.id, batch, now, max_batch)
    # One statement: duplicates are skipped by the unique key, RETURNING counts the new ones.
    accepted = len(_INSERT_EVENTS.returned(db, rows))
    return v1.EventBatchAck(accepted=accepted, duplicates=len(rows) - accepted)


def event_rows(session_id: str, batch: v1.EventBatch, now: datetime, max_batch: int) -> list[dict[str, Any]]:
    """The rows of an event batch, or ``Invalid`` saying what is wrong with it."""
    if len(batch.events) > max_batch:
        raise Invalid(f"At most {max_batch} events per batch.")
    ids = [e.id for e in batch.events]
    if len(set(ids)) != len(ids):
        raise Invalid("Event ids must be unique within a batch.")
    rows = []
    for e in batch.events:
        if len(json.dumps(e.data)) > MAX_EVENT_DATA:
            raise Invalid(
                f"Event {e.id} carries more than {MAX_EVENT_DATA} bytes of data; seal it as evidence."
            )
        rows.append(
            {
                "session_id": session_id,
                "client_id": e.id,
                "type": e.type,
                "at": e.at,
                "score": e.score,
                "severity": e.severity,
                "data": e.data,
                "received_at": now,
            }
        )
    return rows


def handin(
    db: Session,
    session: ExamSession,
    req: v1.HandinRequest,
    now: datetime,
    signer: ed25519.Ed25519PrivateKey,
    public_url: str,
) -> v1.Receipt:
    portal_hash = tokens.token_hash(req.portal_token)
    portal_url = f"{public_url}/me/{req.portal_token}"
    existing = repository.handin_for(db, session.id)
    if existing is not None:
        if existing.client_id == req.handin_id and tokens.same(existing.portal_token_hash, portal_hash):
            return v1.Receipt(
                body=existing.receipt,
                signature=existing.signature,
                signing_key=signing.public_b64(signer),
                portal_url=portal_url,
            )
        raise Conflict("This exam was already handed in; the receipt was issued then.")
    if State(session.state) not in BEFORE_HANDIN:
        raise Conflict(f"A session that is {session.state} cannot hand in.")
    if len(set(req.items)) != len(req.items):
        raise Invalid("Each hand-in file may be listed once.")
    stored = {
        item.client_id: item
        for item in db.scalars(
            select(EvidenceItem).where(
                EvidenceItem.session_id == session.id,
                EvidenceItem.client_id.in_(req.items),
                EvidenceItem.kind == "handin_file",
                EvidenceItem.status == "stored",
            )
        ).all()
    }
    missing = [i for i in req.items if i not in stored]
    if missing:
        raise Conflict("Some hand-in files have not arrived yet; upload them first.", missing=missing[:50])
    exam = exams_repo.get(db, session.exam_id)
    candidate = db.get(Candidate, session.candidate_id)
    assert exam is not None
    assert candidate is not None
    institution = db.get(Institution, exam.institution_id)
    assert institution is not None
    tail = parse_policy(exam.policy).tail_period_seconds
    session.handed_in_at = now
    session.tail_ends_at = now + timedelta(seconds=tail)
    move(session, State.HANDED_IN)
    body = {
        "type": "invigil-handin-receipt",
        "v": 1,
        "institution": institution.name,
        "exam": {"id": exam.id, "title": exam.title},
        "candidate": candidate.pseudonym,
        "session": session.id,
        "handin_id": req.handin_id,
        "handed_in_at": iso(now),
        "tail_ends_at": iso(session.tail_ends_at),
        "files": [{"item": i, "sha256": stored[i].sha256, "size": stored[i].size} for i in req.items],
        "evidence_items_received": session.items,
        "portal_token_sha256": portal_hash,
    }
    signature = signing.sign(signer, body)
    db.add(
        Handin(
            session_id=session.id,
            client_id=req.handin_id,
            handed_in_at=now,
            receipt=body,
            signature=signature,
            portal_token_hash=portal_hash,
        )
    )
    return v1.Receipt(
        body=body, signature=signature, signing_key=signing.public_b64(signer), portal_url=portal_url
    )


def close(db: Session, session: ExamSession, now: datetime) -> str:
    state = State(session.state)
    if state not in (State.HANDED_IN, State.TAIL):
        raise Conflict("Only a session that was handed in can close; hand in first.")
    assert session.tail_ends_at is not None
    if now < session.tail_ends_at - timedelta(seconds=5):
        raise Conflict(f"The tail period runs until {iso(session.tail_ends_at)}.")
    _end_offline(db, session, now)
    session.closed_at = now
    move(session, State.CLOSED)
    return session.state


def sweep(
    db: Session, now: datetime, offline_after_seconds: int, ended: list[str] | None = None
) -> dict[str, int]:
    """Periodic job: mark silent sessions offline, close finished tails, abandon the rest.

    Idempotent: running it twice in a row changes nothing the second time. The ids of the sessions
    it closed or abandoned are appended to ``ended`` (their analysis is due).
    """
    ended = [] if ended is None else ended
    counts = {"offline": 0, "closed": 0, "abandoned": 0}
    silent_before = now - timedelta(seconds=offline_after_seconds)
    watched = (State.ACTIVATED, State.RUNNING, State.HANDED_IN, State.TAIL)
    for session in repository.silent_sessions(db, watched, silent_before):
        last = session.last_heartbeat_at or session.activated_at
        assert last is not None
        session.offline_since = last
        db.add(OfflinePeriod(session_id=session.id, started_at=last))
        if State(session.state) in (State.ACTIVATED, State.RUNNING):
            move(session, State.OFFLINE)
        counts["offline"] += 1
    for session, exam in repository.sweep_candidates(db, now, offline_after_seconds):
        state = State(session.state)
        if state in (State.HANDED_IN, State.TAIL):
            assert session.tail_ends_at is not None
            if now > session.tail_ends_at + timedelta(seconds=offline_after_seconds):
                _end_offline(db, session, now)
                session.closed_at = now
                move(session, State.CLOSED)
                counts["closed"] += 1
                ended.append(session.id)
            continue
        if state is State.ISSUED:
            give_up = now > exam.ends_at
        else:
            # A candidate still in contact is never abandoned: their data is still arriving.
            grace = timedelta(
                seconds=max(parse_policy(exam.policy).allowed_offline_seconds, offline_after_seconds)
            )
            last = session.last_heartbeat_at or session.activated_at or exam.starts_at
            give_up = now > exam.ends_at + grace and last < now - grace
        if give_up:
            _end_offline(db, session, now)
            move(session, State.ABANDONED)
            counts["abandoned"] += 1
            if state is not State.ISSUED:
                ended.append(session.id)
    return counts
