"""Agent protocol v1 over real HTTP, with every kind of bad input. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from invigil.evidence.models import EvidenceItem
from invigil.kit import signing
from invigil.kit.clock import utcnow
from invigil.protocol import v1
from invigil.protocol.policy import KEY_CATEGORIES
from invigil.sessions.models import Event, ExamSession
from tests.factories import make_exam
from tests.integration.agentkit import activate, activation_body, post_activation

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 200


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


@pytest.fixture
def exam(installation):
    return make_exam(installation, n=3)


def _session(installation, session_id):
    with installation.container.uow() as db:
        return db.get(ExamSession, session_id)


# -- activation ------------------------------------------------------------------------------------


def test_activation_gives_key_policy_and_schedule(http, exam, installation):
    agent = activate(http, exam.codes[0].lower().replace("-", " "))  # typed sloppily
    assert agent.act["candidate"] == exam.pseudonyms[0]
    assert agent.act["policy"]["screenshots"]["enabled"] is True
    assert agent.act["keys"]["generation"] == 3  # made, then re-keyed for each of two assignments
    assert set(agent.act["keys"]["keys"]) == set(KEY_CATEGORIES)
    assert all(len(k["public_key"]) == 44 for k in agent.act["keys"]["keys"].values())
    assert "name" not in str(agent.act).lower().replace("timezone", "")
    s = _session(installation, agent.session_id)
    assert s.state == "activated"
    assert s.token_hash != agent.secret


def test_activation_retry_is_idempotent_but_code_is_single_use(http, exam):
    agent = activate(http, exam.codes[0])
    again = activate(http, exam.codes[0], secret=agent.secret)  # lost answer, same secret: same session
    assert again.act == agent.act
    r = post_activation(http, activation_body(exam.codes[0], secrets.token_urlsafe(32)))
    assert r.status_code == 409
    assert "already used" in r.json()["message"]


def test_wrong_code_is_refused_clearly(http, exam, installation):
    r = post_activation(http, activation_body("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "s" * 40))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_code"
    assert "Check the code on your exam letter" in r.json()["message"]
    assert _session(installation, exam.session_ids[0]).state == "issued"


def test_guessing_is_rate_limited_even_for_a_right_code(http, exam):
    for _ in range(5):  # activation_max_failures=5 in the test settings
        r = post_activation(http, activation_body(secrets.token_hex(8), "s" * 40))
        assert r.status_code == 401
    r = post_activation(http, activation_body(exam.codes[0], "s" * 40))
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert "Too many wrong activation codes" in r.json()["message"]


def test_expired_and_early_codes(http, installation):
    # An expired code of a running exam: an ended exam's unused codes race the sweeper, which
    # abandons them ("can no longer be used").
    running = make_exam(installation, n=1)
    with installation.container.uow() as db:
        session = db.get(ExamSession, running.session_ids[0])
        session.code_expires_at = utcnow() - timedelta(minutes=1)
    r = post_activation(http, activation_body(running.codes[0], "s" * 40))
    assert r.status_code == 410
    assert "expired" in r.json()["message"]
    later = make_exam(installation, n=1, start_offset=24 * 60, minutes=60)
    r = post_activation(http, activation_body(later.codes[0], "s" * 40))
    assert r.status_code == 403
    assert "opens for activation" in r.json()["message"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"code": "x"},
        {"code": "A" * 100, "session_secret": "s" * 40},
        {"code": "x", "session_secret": "short"},
        {"code": "x", "session_secret": "s" * 40, "extra": 1},
    ],
)
def test_malformed_activation_is_422(http, body):
    r = post_activation(http, body)
    assert r.status_code == 422
    assert r.json()["message"].startswith("The request is not valid")


# -- tokens ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
def test_heartbeat_needs_the_session_token(http, exam, header):
    activate(http, exam.codes[0])
    headers = {"Authorization": header} if header else {}
    r = http.post(f"{v1.PREFIX}/heartbeat", json={"seq": 1, "sent_at": utcnow().isoformat()}, headers=headers)
    assert r.status_code == 401


def test_replayed_heartbeat_changes_nothing(http, exam, installation):
    agent = activate(http, exam.codes[0])
    assert agent.heartbeat(10).json()["state"] == "running"
    first = _session(installation, agent.session_id).last_heartbeat_at
    assert agent.heartbeat(10).status_code == 200
    assert agent.heartbeat(5).status_code == 200
    assert _session(installation, agent.session_id).last_heartbeat_at == first


# -- events ----------------------------------------------------------------------------------------


def _events(n, prefix="ev"):
    return [
        {"id": f"{prefix}-{i:06d}", "type": "capture.screenshot", "at": utcnow().isoformat()}
        for i in range(n)
    ]


def test_event_batches_are_idempotent(http, exam, installation):
    agent = activate(http, exam.codes[0])
    r = http.post(f"{v1.PREFIX}/events", json={"events": _events(5)}, headers=agent.auth())
    assert r.json() == {"accepted": 5, "duplicates": 0}
    r = http.post(f"{v1.PREFIX}/events", json={"events": _events(7)}, headers=agent.auth())
    assert r.json() == {"accepted": 2, "duplicates": 5}
    with installation.container.uow() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 7


@pytest.mark.parametrize(
    "events",
    [
        [{"id": "../../etc/passwd", "type": "x", "at": "2026-01-01T00:00:00Z"}],
        [{"id": "ok-id-12345", "type": "DROP TABLE", "at": "2026-01-01T00:00:00Z"}],
        [{"id": "ok-id-12345", "type": "x.y", "at": "2026-01-01T00:00:00Z", "data": {"blob": "x" * 5000}}],
        [{"id": "ok-id-12345", "type": "x", "at": "2026-01-01T00:00:00Z", "score": 7}],
        _events(2) + _events(1),  # duplicate ids inside one batch
        _events(501),
        [],
    ],
)
def test_bad_event_batches_change_nothing(http, exam, installation, events):
    agent = activate(http, exam.codes[0])
    r = http.post(f"{v1.PREFIX}/events", json={"events": events}, headers=agent.auth())
    assert r.status_code == 422, r.text
    with installation.container.uow() as db:
        assert db.scalar(select(func.count()).select_from(Event)) == 0


# -- evidence --------------------------------------------------------------------------------------


def _count_items(installation):
    with installation.container.uow() as db:
        return db.scalar(
            select(func.count()).select_from(EvidenceItem).where(EvidenceItem.status == "stored")
        )


def test_upload_is_idempotent_and_counted_once(http, exam, installation):
    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("screenshot", PNG)
    assert agent.put(item_id, "screenshot", sealed).json()["status"] == "stored"
    assert agent.put(item_id, "screenshot", sealed).json()["status"] == "stored"
    r = http.get(f"{v1.PREFIX}/evidence/{item_id}", headers=agent.auth())
    assert r.json() == {"item_id": item_id, "status": "stored", "received": len(sealed), "size": len(sealed)}
    s = _session(installation, agent.session_id)
    assert (s.items, s.bytes) == (1, len(sealed))
    stored = installation.container.store.get(
        f"evidence/{exam.exam_id}/{agent.session_id}/" + _item_row(installation, item_id)
    )
    assert stored == sealed


def _item_row(installation, client_id):
    with installation.container.uow() as db:
        return db.scalar(select(EvidenceItem.id).where(EvidenceItem.client_id == client_id))


def test_chunked_upload_resumes_where_the_server_is(http, exam, installation):
    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("screenshot", b"p" * 250_000)
    n = len(sealed)
    r = agent.put(
        item_id, "screenshot", sealed[:100_000], size=n, sha=_sha(sealed), content_range=f"bytes 0-99999/{n}"
    )
    assert r.status_code == 202
    assert r.json()["received"] == 100_000
    # A chunk that skips ahead is refused with the offset to continue from.
    r = agent.put(
        item_id,
        "screenshot",
        sealed[150_000:],
        size=n,
        sha=_sha(sealed),
        content_range=f"bytes 150000-{n - 1}/{n}",
    )
    assert r.status_code == 409
    assert r.json()["received"] == 100_000
    # Overlapping resend is fine.
    r = agent.put(
        item_id,
        "screenshot",
        sealed[50_000:],
        size=n,
        sha=_sha(sealed),
        content_range=f"bytes 50000-{n - 1}/{n}",
    )
    assert r.status_code == 201
    assert r.json()["status"] == "stored"
    assert _session(installation, agent.session_id).items == 1
    assert list(installation.container.store.keys("partial/")) == []


def _sha(data):
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_wrong_hash_is_refused_and_nothing_stored(http, exam, installation):
    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("screenshot", PNG)
    r = agent.put(item_id, "screenshot", sealed, sha="0" * 64)
    assert r.status_code == 400
    assert "SHA-256" in r.json()["message"]
    assert _count_items(installation) == 0
    assert agent.put(item_id, "screenshot", sealed).status_code == 201  # a clean retry works


@pytest.mark.parametrize(
    "payload",
    [PNG, b"", b"INVGENV1" + b"\0" * 40, b'{"not": "sealed"}'],
    ids=["plain-png", "empty", "fake-magic", "json"],
)
def test_non_envelopes_are_refused(http, exam, installation, payload):
    agent = activate(http, exam.codes[0])
    r = agent.put("plain-item-0001", "screenshot", payload)
    assert r.status_code in (400, 422), r.text
    assert _count_items(installation) == 0
    assert list(installation.container.store.keys("evidence/")) == []


def test_envelope_for_another_candidate_or_kind_is_refused(http, exam, installation):
    a = activate(http, exam.codes[0])
    b = activate(http, exam.codes[1])
    item_id, sealed_for_a = a.seal("screenshot", PNG)
    r = b.put(item_id, "screenshot", sealed_for_a)  # B replays A's envelope as its own
    assert r.status_code == 422
    assert "sealed for" in r.json()["message"]
    _, sealed_as_webcam = a.seal("webcam_frame", PNG, item_id="kind-swap-0001")
    r = a.put("kind-swap-0001", "screenshot", sealed_as_webcam)
    assert r.status_code == 422
    assert _count_items(installation) == 0


def test_envelope_to_a_foreign_key_is_refused(http, exam):
    from cryptography.hazmat.primitives.asymmetric import x25519

    from invigil.kit import envelope

    agent = activate(http, exam.codes[0])
    ctx = envelope.Context(agent.exam_id, agent.session_id, "foreign-key-01", "screenshot")
    sealed = envelope.seal_bytes(PNG, ctx, [x25519.X25519PrivateKey.generate().public_key()])
    r = agent.put("foreign-key-01", "screenshot", sealed)
    assert r.status_code == 422
    assert "not sealed to this exam" in r.json()["message"]


def test_other_candidates_ids_are_separate_namespaces(http, exam, installation):
    a = activate(http, exam.codes[0])
    b = activate(http, exam.codes[1])
    item_id = a.upload("screenshot", PNG)
    r = http.get(f"{v1.PREFIX}/evidence/{item_id}", headers=b.auth())
    assert r.json()["status"] == "missing"  # B cannot even learn that A's item exists
    assert _session(installation, b.session_id).items == 0


def test_kind_outside_the_policy_is_refused(http, installation):
    exam = make_exam(installation, n=1, policy={"screenshots": {"enabled": True}})
    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("webcam_frame", b"jpeg")
    r = agent.put(item_id, "webcam_frame", sealed)
    assert r.status_code == 403
    assert "does not collect webcam frames" in r.json()["message"]
    r = agent.put(item_id, "not_a_kind", sealed)
    assert r.status_code == 400


def test_oversized_bodies_are_refused(http, exam, installation):
    agent = activate(http, exam.codes[0])
    big = b"x" * (installation.container.settings.max_request_bytes + 1)
    r = agent.put("too-big-item-01", "screenshot", big)
    assert r.status_code == 413
    r = agent.put(
        "too-big-item-02",
        "screenshot",
        b"x" * 10,
        size=26 * 1024 * 1024,
        content_range=f"bytes 0-9/{26 * 1024 * 1024}",
    )
    assert r.status_code == 413
    assert "25 MB" in r.json()["message"]
    r = http.post(
        f"{v1.PREFIX}/events",
        content=b"[" + b" " * (9 * 1024 * 1024) + b"]",
        headers={**agent.auth(), "Content-Type": "application/json"},
    )
    assert r.status_code == 413


@pytest.mark.parametrize("item_id", ["..%2F..%2Fetc%2Fpasswd", "a", "bad$id!!", "x" * 65, "....----"])
def test_path_traversal_and_bad_item_ids(http, exam, installation, item_id):
    agent = activate(http, exam.codes[0])
    _, sealed = agent.seal("screenshot", PNG)
    r = agent.put(item_id, "screenshot", sealed)
    assert r.status_code in (400, 404, 422)
    assert _count_items(installation) == 0


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({v1.H_SIZE: "-1"}, 400),
        ({v1.H_SIZE: "abc"}, 400),
        ({v1.H_CAPTURED_AT: "yesterday"}, 400),
        ({v1.H_SHA256: "xyz"}, 400),
        ({"Content-Range": "bytes 5-1/10"}, 400),
    ],
)
def test_malformed_upload_headers(http, exam, headers, status):
    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("screenshot", PNG)
    r = agent.put(item_id, "screenshot", sealed, headers=headers)
    assert r.status_code == status, r.text


# -- hand-in, tail, close --------------------------------------------------------------------------


def test_handin_receipt_tail_and_close(http, exam, installation):
    agent = activate(http, exam.codes[0])
    agent.heartbeat(1)
    shot = agent.upload("screenshot", PNG)
    r = agent.handin(["never-uploaded-1"])
    assert r.status_code == 409
    assert r.json()["missing"] == ["never-uploaded-1"]
    r = agent.handin([shot])  # a screenshot is not a hand-in file
    assert r.status_code == 409
    answer = agent.upload("handin_file", b"my answers")
    handin_id, portal = "handin-000001", secrets.token_urlsafe(32)
    r = agent.handin([answer], handin_id, portal)
    assert r.status_code == 200
    receipt = r.json()
    key = http.get("/api/v1/receipt-key").json()["public_key"]
    assert signing.verify(key, receipt["body"], receipt["signature"])
    assert receipt["body"]["candidate"] == exam.pseudonyms[0]
    assert receipt["body"]["evidence_items_received"] == 2
    assert agent.handin([answer], handin_id, portal).json() == receipt  # retry: same receipt
    assert agent.handin([answer]).status_code == 409  # a second, different hand-in
    page = http.get(
        receipt["portal_url"].split(":8000")[-1] if ":8000" in receipt["portal_url"] else "/me/" + portal
    )
    assert page.status_code == 200
    assert exam.pseudonyms[0] in page.text
    assert http.get("/me/" + secrets.token_urlsafe(32)).status_code == 404

    assert agent.heartbeat(2, phase="tail").json()["state"] == "tail"
    agent.upload("screenshot", PNG)  # capture continues in the tail
    with installation.container.uow() as db:  # the tail ends (2 s in the test policy)
        db.get(ExamSession, agent.session_id).tail_ends_at = utcnow() - timedelta(seconds=1)
    r = http.post(f"{v1.PREFIX}/close", json={"reason": "tail_complete"}, headers=agent.auth())
    assert r.json() == {"state": "closed"}
    assert agent.heartbeat(3).status_code == 401  # the token died with the session
    assert agent.put("late-item-0001", "screenshot", b"x").status_code == 401


def test_close_before_tail_end_is_refused(http, installation):
    exam = make_exam(installation, n=1, policy={"tail_period_seconds": 600})
    agent = activate(http, exam.codes[0])
    answer = agent.upload("handin_file", b"answers")
    assert agent.handin([answer]).status_code == 200
    r = http.post(f"{v1.PREFIX}/close", json={}, headers=agent.auth())
    assert r.status_code == 409
    assert "tail period runs until" in r.json()["message"]


class FullDisk:
    """A blob store whose disk is full: every write fails with ENOSPC."""

    def __init__(self, inner):
        self.inner, self.name = inner, "full"

    def put(self, key, data):
        import errno

        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_full_server_disk_is_a_retryable_503_and_loses_nothing(http, exam, installation):
    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("screenshot", PNG)
    real = installation.container.store
    installation.container.store = FullDisk(real)
    try:
        r = agent.put(item_id, "screenshot", sealed)
    finally:
        installation.container.store = real
    assert r.status_code == 503
    assert "storage is full" in r.json()["message"]
    assert r.headers["Retry-After"] == "30"
    assert _count_items(installation) == 0
    assert agent.put(item_id, "screenshot", sealed).status_code == 201  # the agent's retry succeeds


def test_racing_retries_of_one_upload_are_idempotent(http, exam, installation, server):
    """A client that times out resends while the first request is still storing: both succeed, once."""
    from concurrent.futures import ThreadPoolExecutor

    agent = activate(http, exam.codes[0])
    item_id, sealed = agent.seal("screenshot", os.urandom(3 * 1024 * 1024))

    def send(_):
        with httpx.Client(base_url=server.url, timeout=60) as own:
            return activate_like(own, agent).put(item_id, "screenshot", sealed).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(send, range(8)))
    assert set(codes) <= {200, 201}, codes
    assert _count_items(installation) == 1
    assert _session(installation, agent.session_id).items == 1


def activate_like(client, agent):
    """The same agent (same token and activation) speaking through another connection."""
    from tests.integration.agentkit import Agent

    return Agent(client, agent.secret, agent.act, agent.candidate)
