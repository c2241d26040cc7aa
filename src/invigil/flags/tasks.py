"""Analysis jobs. Each takes ids, opens its own unit of work, is idempotent and may run anywhere.

- ``analyse_item``: open one sealed evidence item with the worker's key and run its analysers.
- ``analyse_session``: the event-based activity detectors, offline periods, and the agent's own
  ``detection.*`` events (stored as agent-source detections).
- ``analyse_stream``: a session's webcam frames in capture order, once the session has ended:
  looking-away episodes against the candidate's own baseline, and (opt-in) face verification.
- ``analyse_handins``: near-identical hand-ins across one exam's candidates.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from invigil.analysis import activity, registry, similarity
from invigil.analysis.base import BEHAVIOURS, Detection
from invigil.container import Container
from invigil.evidence import repository as evidence_repo
from invigil.evidence.models import EvidenceItem
from invigil.exams import repository as exams_repo
from invigil.exams.models import Exam
from invigil.flags import repository, service
from invigil.flags.opener import EvidenceOpener
from invigil.kit.clock import utcnow
from invigil.privacy import requests as subject_requests
from invigil.protocol.policy import Policy, parse_policy
from invigil.sessions import repository as sessions_repo
from invigil.sessions.models import Event, ExamSession

log = logging.getLogger("invigil.analysis")
EVENTS_PREFIX = "events:"
HANDINS_PREFIX = "handins:"
STREAM_PREFIX = "stream:"


def analyse_item(c: Container, item_ref: str, opener: EvidenceOpener | None) -> int:
    """Worker pass over one stored item, named ``<session id>/<client id>`` (what the upload knows)
    or by its row id. Answers the number of new detections (0 when skipped)."""
    with c.uow() as db:
        session_id, _, client_id = item_ref.rpartition("/")
        if session_id:
            item = evidence_repo.by_client_id(db, session_id, client_id)
        else:
            item = evidence_repo.get(db, item_ref)
        if item is None or item.status != "stored" or subject_requests.restricted_since(db, item.session_id):
            return 0  # gone, or restricted at the candidate's request (GDPR Art. 18): not processed
        fns = registry.analysers_for(item.kind)
        if not fns:
            return 0  # no analyser for this kind (yet)
        if opener is None:
            log.warning("evidence item %s not analysed: the worker has no analysis key (ADR 0009)", item_ref)
            return 0
        exam = exams_repo.get(db, item.exam_id)
        assert exam is not None
        policy = parse_policy(exam.policy)
        plaintext = opener.open(db, item)
        capture = registry.Capture(
            item.kind,
            item.client_id,
            item.captured_at,
            tuple(policy.process_snapshots.forbidden),
            tuple(policy.browser_history.allowed_sites),
        )
        found = registry.analyse(plaintext, capture)
        new = service.record(db, exam.id, item.session_id, "worker", found)
        if new:
            service.rebuild(db, exam, item.session_id)
        return new


def _session_end(session: ExamSession, exam: Exam, now: datetime) -> datetime:
    """Where an open span (focus never regained, still offline) ends: hand-in, close, or now."""
    return min(x for x in (session.handed_in_at, session.closed_at, now) if x is not None)


def _agent_detection(e: Event) -> tuple[Detection, str] | None:
    behaviour = e.type.removeprefix("detection.")
    if behaviour not in BEHAVIOURS or e.score is None:
        return None
    data: dict[str, Any] = e.data or {}
    try:
        end = datetime.fromisoformat(str(data.get("end") or e.at.isoformat()))
        evidence = tuple(str(x) for x in data.get("evidence", []))[:50]
        facts = data.get("facts") if isinstance(data.get("facts"), dict) else {}
        d = Detection(behaviour, e.score, e.at, max(end, e.at), evidence, facts or {})
    except (ValueError, TypeError):
        return None  # a malformed report from an agent is ignored, not fatal
    return d, f"event:{e.client_id}"


def analyse_session(c: Container, session_id: str) -> int:
    """Event-based detectors (worker source) and the agent's own detections (agent source)."""
    now = utcnow()
    with c.uow() as db:
        session = sessions_repo.get(db, session_id)
        if session is None or subject_requests.restricted_since(db, session.id):
            return 0
        exam = exams_repo.get(db, session.exam_id)
        assert exam is not None
        events = repository.events_of_session(db, session.id)
        facts = [activity.ActivityEvent(e.type, e.at, e.data or {}, e.client_id) for e in events]
        periods = [(p.started_at, p.ended_at) for p in sessions_repo.offline_periods(db, [session.id])]
        found = activity.from_events(facts, periods, _session_end(session, exam, now))
        # Spans still open change as time passes: derived detections are replaced, not accumulated.
        repository.forget_detections(db, [session.id], "worker", EVENTS_PREFIX)
        db.flush()
        worker = [(d, EVENTS_PREFIX + service.fingerprint(d)) for d in found]
        new = service.record(db, exam.id, session.id, "worker", worker)
        agent = [x for x in (_agent_detection(e) for e in events if e.type.startswith("detection.")) if x]
        new += service.record(db, exam.id, session.id, "agent", agent)
        service.rebuild(db, exam, session.id)
        return new


def analyse_stream(c: Container, session_id: str, opener: EvidenceOpener | None) -> int:
    """Replay a session's webcam frames through one ``WebcamStream`` (the agent's live code) and, if
    the exam opted in, compare each with the reference photo. Answers the number of new detections.

    Runs when the session ends (hand-in, close, or the sweeper closing or abandoning it); running it
    again replaces its earlier results, so frames that arrived late are simply included next time.
    """
    if opener is None:
        log.warning("webcam stream of %s not analysed: the worker has no analysis key (ADR 0009)", session_id)
        return 0
    try:
        from invigil.analysis.perception import WebcamStream
    except ImportError:
        return 0  # the vision models are not installed here
    with c.uow() as db:
        session = sessions_repo.get(db, session_id)
        if session is None or subject_requests.restricted_since(db, session.id):
            return 0
        exam = exams_repo.get(db, session.exam_id)
        assert exam is not None
        items = evidence_repo.stored_for_session(db, session.id)
        frames = sorted((i for i in items if i.kind == "webcam_frame"), key=lambda i: (i.captured_at, i.id))
        stream = WebcamStream(per_frame=False)
        verifier = _verifier(db, opener, parse_policy(exam.policy), session.id, items)
        found: list[Detection] = []
        for item in frames:
            try:
                data = opener.open(db, item)
                found += stream.push(data, item.client_id, item.captured_at)
                if verifier is not None:
                    found += verifier.detect(data, item.client_id, item.captured_at)
            except Exception:  # one unreadable frame (corrupt, undecodable) must not hide the others
                log.warning(
                    "webcam frame %s of session %s skipped", item.client_id, session.id, exc_info=True
                )
        found += stream.finish()
        before = {
            fp for fp in repository.fingerprints(db, session.id, "worker") if fp.startswith(STREAM_PREFIX)
        }
        repository.forget_detections(db, [session.id], "worker", STREAM_PREFIX)
        db.flush()
        now = [(d, STREAM_PREFIX + service.fingerprint(d)) for d in found]
        service.record(db, exam.id, session.id, "worker", now)
        service.rebuild(db, exam, session.id)
        return len({fp for _, fp in now} - before)


def _verifier(
    db: Session, opener: EvidenceOpener, policy: Policy, session_id: str, items: Sequence[EvidenceItem]
) -> Any:
    """The exam's face verifier built from the session's reference photo, or None (off, no photo, no
    face in it, or dlib not installed: each said in the log)."""
    if not policy.face_verification.enabled:
        return None
    reference = next((i for i in items if i.kind == "reference_photo"), None)
    if reference is None:
        log.warning("face verification is on but session %s has no reference photo", session_id)
        return None
    try:
        from invigil.analysis.biometric import FaceVerifier, NoFace
    except ImportError:
        log.warning("face verification is on but dlib is not installed on this worker")
        return None
    try:
        return FaceVerifier(opener.open(db, reference), bands=policy.face_verification.score_bands)
    except NoFace:
        log.warning("no face in the reference photo %s: frames are not verified", reference.client_id)
        return None


def analyse_handins(c: Container, exam_id: str, opener: EvidenceOpener | None) -> int:
    """Near-identical hand-ins across the exam's candidates. Answers the number of pairs found."""
    if opener is None:
        log.warning("hand-ins of exam %s not compared: the worker has no analysis key (ADR 0009)", exam_id)
        return 0
    now = utcnow()
    with c.uow() as db:
        exam = exams_repo.get(db, exam_id)
        if exam is None:
            return 0
        texts: dict[str, list[str]] = {}
        evidence: dict[str, list[str]] = {}
        for item in evidence_repo.stored_for_exam(db, exam_id):
            if item.kind != "handin_file" or subject_requests.restricted_since(db, item.session_id):
                continue
            texts.setdefault(item.session_id, []).append(similarity.text_of(opener.open(db, item)))
            evidence.setdefault(item.session_id, []).append(item.client_id)
        rules = service.exam_rules(db, exam)
        threshold = min(0.5, rules["handin.near_duplicate"].threshold)
        pairs = similarity.near_duplicates({k: "\n".join(v) for k, v in texts.items()}, threshold)
        sessions = sorted(texts)
        repository.forget_detections(db, sessions, "worker", HANDINS_PREFIX)
        db.flush()
        for pair in pairs:
            ev = {k: tuple(v) for k, v in evidence.items()}
            for me, d in similarity.detections_for(pair, now, ev).items():
                other = pair.b if me == pair.a else pair.a
                service.record(db, exam.id, me, "worker", [(d, f"{HANDINS_PREFIX}{other}")])
        for sid in sessions:
            service.rebuild(db, exam, sid, rules)
        return len(pairs)
