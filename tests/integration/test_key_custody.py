"""Key custody over real HTTP: staff keys, who holds the exam keys, grants, revocation with rotation,
the invigilators' window, candidate copies, and the recovery key's rotation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy import select

from invigil.accounts.models import Role
from invigil.evidence.models import EvidenceItem
from invigil.exams import keys
from invigil.exams.models import KeyGrant
from invigil.kit import envelope
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import NotFound
from invigil.kit.keywrap import (
    WrongPassphrase,
    new_recovery_key,
    new_staff_key,
    rewrap_staff_key,
    unwrap_staff_key,
)
from invigil.protocol import v1
from tests.factories import KEY_PASSPHRASE, add_staff, give_key, login, login_as, make_exam
from tests.integration.agentkit import Agent, activate

PNG = b"\x89PNG\r\n\x1a\n" + b"pixels " * 50


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def _item(inst, client_id: str) -> EvidenceItem:
    with inst.container.uow() as db:
        row = db.scalar(select(EvidenceItem).where(EvidenceItem.client_id == client_id))
        assert row is not None
        db.expunge(row)
        return row


def _open_as(inst, holder, exam_id: str, client_id: str, kind: str = "screenshot") -> bytes:
    """Open one stored item the way a key holder's software does: copies of the keys, then the blob."""
    item = _item(inst, client_id)
    with inst.container.uow() as db:
        opened = keys.open_exam_keys(db, exam_id, holder)
    key = opened.get(item.exam_kid or "")
    if key is None:
        raise envelope.NotARecipient("no copy of the key this item is sealed to")
    ctx = envelope.Context(exam_id, item.session_id, client_id, kind)
    return envelope.open_bytes(inst.container.store.get(item.blob_key), key, expected=ctx)


def _login_as(server, email: str) -> dict[str, str]:
    return login_as(server.url, email)


# -- a person's key -------------------------------------------------------------------------------
def test_staff_key_is_made_and_rewrapped_on_the_persons_side(http, server, installation):
    h = login(server.url, "reviewer")
    assert http.get("/api/v1/staff/me/key", headers=h).status_code == 404
    me = http.get("/api/v1/staff/me", headers=h).json()
    iterations = installation.container.settings.kdf_iterations
    private_key, wrapped = new_staff_key("first passphrase!", me["id"], iterations=iterations)
    public = envelope.b64e(envelope.raw_public(private_key.public_key()))
    r = http.put("/api/v1/staff/me/key", json={"public_key": public, "wrapped": wrapped}, headers=h)
    assert r.status_code == 200, r.text
    kid = r.json()["kid"]

    # A new passphrase: same key pair, wrapped again. The old passphrase stops working.
    rewrapped = rewrap_staff_key(private_key, "second passphrase!", me["id"], iterations=iterations)
    r = http.put("/api/v1/staff/me/key", json={"public_key": public, "wrapped": rewrapped}, headers=h)
    assert r.status_code == 200
    stored = http.get("/api/v1/staff/me/key", headers=h).json()
    assert unwrap_staff_key(stored["wrapped"], "second passphrase!", me["id"], kid).public_key() is not None
    with pytest.raises(WrongPassphrase):
        unwrap_staff_key(stored["wrapped"], "first passphrase!", me["id"], kid)

    # The key pair itself can never be replaced: grants are sealed to it.
    other, other_wrapped = new_staff_key("third passphrase!", me["id"], iterations=iterations)
    r = http.put(
        "/api/v1/staff/me/key",
        json={"public_key": envelope.b64e(envelope.raw_public(other.public_key())), "wrapped": other_wrapped},
        headers=h,
    )
    assert r.status_code == 409
    assert "cannot be replaced" in r.json()["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"iterations": 999}, "at least 1,000"),
        ({"kdf": "MD5"}, "PBKDF2-HMAC-SHA512"),
        ({"salt": "c2hvcnQ="}, "16-byte salt"),
        ({"ciphertext": "not base64!"}, "base64"),
        ({"extra": 1}, "exactly the fields"),
    ],
)
def test_weak_or_malformed_wrapped_keys_are_refused(http, server, installation, change, message):
    h = login(server.url, "reviewer")
    me = http.get("/api/v1/staff/me", headers=h).json()
    private_key, wrapped = new_staff_key("first passphrase!", me["id"], iterations=1000)
    public = envelope.b64e(envelope.raw_public(private_key.public_key()))
    r = http.put(
        "/api/v1/staff/me/key", json={"public_key": public, "wrapped": {**wrapped, **change}}, headers=h
    )
    assert r.status_code == 422
    assert message in r.json()["message"]


def test_a_wrapped_key_swapped_onto_another_person_does_not_open(installation):
    reviewer = give_key(installation, "reviewer")
    with installation.container.uow() as db:
        row = keys.staff_key(db, installation.staff["reviewer"])
        assert row is not None
        wrapped, kid = row.wrapped, row.kid
    assert envelope.key_id(
        unwrap_staff_key(wrapped, KEY_PASSPHRASE, installation.staff["reviewer"], kid).public_key()
    ) == envelope.key_id(reviewer.public_key())
    with pytest.raises(WrongPassphrase):  # same bytes, same passphrase, another person's record
        unwrap_staff_key(wrapped, KEY_PASSPHRASE, installation.staff["invigilator"], kid)


# -- who holds the exam keys ------------------------------------------------------------------------
def test_people_assigned_before_the_exam_hold_its_keys_at_once(http, installation):
    reviewer = give_key(installation, "reviewer")
    invigilator = give_key(installation, "invigilator")
    examiner = give_key(installation, "examiner")
    exam = make_exam(installation, n=1)
    agent = activate(http, exam.codes[0])
    shot = agent.upload("screenshot", PNG)
    assert _open_as(installation, reviewer, exam.exam_id, shot) == PNG
    assert _open_as(installation, invigilator, exam.exam_id, shot) == PNG
    assert _open_as(installation, installation.recovery_key(), exam.exam_id, shot) == PNG
    with installation.container.uow() as db, pytest.raises(Exception, match="holds no copy"):
        keys.open_exam_keys(db, exam.exam_id, examiner)  # examiners never hold keys


def test_a_late_assignment_waits_for_a_holder_to_grant(http, server, installation):
    reviewer = give_key(installation, "reviewer")
    exam = make_exam(installation, n=1)
    agent = activate(http, exam.codes[0])  # keys in use: assigning no longer re-keys
    shot = agent.upload("screenshot", PNG)
    late_id = add_staff(installation, Role.REVIEWER, "late@uni.example")
    late = give_key(installation, "", staff_id=late_id)
    coordinator = login(server.url, "coordinator")
    r = http.post(
        f"/api/v1/staff/exams/{exam.exam_id}/assignments",
        json={"staff_email": "late@uni.example", "role": "reviewer"},
        headers=coordinator,
    )
    assert r.status_code == 201
    with pytest.raises(NotFound, match="holds no copy"):
        _open_as(installation, late, exam.exam_id, shot)

    # The coordinator sees who waits, but cannot grant: they hold no key.
    pending = http.get(f"/api/v1/staff/exams/{exam.exam_id}/grants/pending", headers=coordinator).json()
    (request,) = pending["pending"]
    assert request["staff_id"] == late_id
    r = http.post(
        f"/api/v1/staff/exams/{exam.exam_id}/grants",
        json={"staff_id": late_id, "copies": {request["missing"][0]: "x"}},
        headers=coordinator,
    )
    assert r.status_code == 403

    # The reviewer, who holds the keys, seals copies on their side; the server stores them.
    h = login(server.url, "reviewer")
    mine = http.get(f"/api/v1/staff/exams/{exam.exam_id}/keys", headers=h).json()["keys"]
    opened = {
        k["kid"]: envelope.open_small(
            envelope.b64d(k["sealed"]), reviewer, keys.exam_key_info(exam.exam_id, k["kid"])
        )
        for k in mine
        if k["sealed"]
    }
    recipient = envelope.public_key_from_b64(request["public_key"])
    copies = {
        kid: envelope.b64e(envelope.seal_small(opened[kid], recipient, keys.exam_key_info(exam.exam_id, kid)))
        for kid in request["missing"]
    }
    r = http.post(
        f"/api/v1/staff/exams/{exam.exam_id}/grants", json={"staff_id": late_id, "copies": copies}, headers=h
    )
    assert r.status_code == 201, r.text
    assert _open_as(installation, late, exam.exam_id, shot) == PNG
    assert http.get(f"/api/v1/staff/exams/{exam.exam_id}/grants/pending", headers=h).json()["pending"] == []


def test_grants_refuse_examiners_unknown_keys_and_garbage(http, server, installation):
    give_key(installation, "reviewer")
    exam = make_exam(installation, n=1)
    activate(http, exam.codes[0])
    give_key(installation, "examiner")
    h = login(server.url, "reviewer")
    live = [k["kid"] for k in http.get(f"/api/v1/staff/exams/{exam.exam_id}/keys", headers=h).json()["keys"]]
    examiner = installation.staff["examiner"]
    junk = envelope.b64e(bytes(envelope.SEALED_KEY_LEN))
    url = f"/api/v1/staff/exams/{exam.exam_id}/grants"
    r = http.post(url, json={"staff_id": examiner, "copies": {live[0]: junk}}, headers=h)
    assert r.status_code == 422
    assert "cannot hold this exam's key" in r.json()["message"]
    late_id = add_staff(installation, Role.REVIEWER, "late@uni.example")
    give_key(installation, "", staff_id=late_id)
    with installation.container.uow() as db:
        from invigil.accounts.models import Staff
        from invigil.exams import service as exams
        from invigil.exams.models import Exam

        exams.assign(db, db.get(Exam, exam.exam_id), db.get(Staff, late_id), Role.REVIEWER)
    r = http.post(url, json={"staff_id": late_id, "copies": {"f" * 32: junk}}, headers=h)
    assert r.status_code == 422
    assert "Not a live key" in r.json()["message"]
    r = http.post(url, json={"staff_id": late_id, "copies": {live[0]: "c2hvcnQ="}}, headers=h)
    assert r.status_code == 422
    assert "not a sealed 32-byte key" in r.json()["message"]


# -- revocation -------------------------------------------------------------------------------------
def test_revocation_rotates_so_later_evidence_is_sealed_to_keys_the_person_never_had(
    http, server, installation
):
    reviewer = give_key(installation, "reviewer")
    invigilator = give_key(installation, "invigilator")
    exam = make_exam(installation, n=1)
    agent = activate(http, exam.codes[0])
    before = agent.upload("screenshot", PNG)
    assert agent.heartbeat(1).json()["key_generation"] == agent.act["keys"]["generation"]

    r = http.delete(
        f"/api/v1/staff/exams/{exam.exam_id}/access/{installation.staff['reviewer']}",
        headers=login(server.url, "coordinator"),
    )
    assert r.status_code == 200, r.text
    new_generation = r.json()["key_generation"]
    assert new_generation == agent.act["keys"]["generation"] + 1
    with installation.container.uow() as db:  # every copy the reviewer held is gone
        left = db.scalars(select(KeyGrant).where(KeyGrant.holder_staff_id == installation.staff["reviewer"]))
        assert list(left) == []

    # The agent learns of the rotation on its next heartbeat and fetches the new keys.
    assert agent.heartbeat(2).json()["key_generation"] == new_generation
    fresh = http.get(f"{v1.PREFIX}/keys", headers=agent.auth()).json()
    assert fresh["generation"] == new_generation
    assert fresh["keys"]["screen"]["kid"] != agent.act["keys"]["keys"]["screen"]["kid"]
    agent.act["keys"] = fresh
    after = agent.upload("screenshot", PNG)

    # Even a copy of the old exam key the reviewer kept does not open what came after.
    with installation.container.uow() as db:
        kept = keys.open_exam_keys(db, exam.exam_id, installation.recovery_key())
    old_screen = kept[_item(installation, before).exam_kid or ""]
    sealed_after = installation.container.store.get(_item(installation, after).blob_key)
    with pytest.raises(envelope.NotARecipient):
        envelope.open_bytes(sealed_after, old_screen)
    assert _open_as(installation, invigilator, exam.exam_id, after) == PNG  # the others keep access
    assert _open_as(installation, invigilator, exam.exam_id, before) == PNG
    # The revoked reviewer has lost access on the server too.
    h = login(server.url, "reviewer")
    assert http.get(f"/api/v1/staff/exams/{exam.exam_id}/keys", headers=h).status_code == 403
    del reviewer


def test_sealing_to_a_retired_key_after_being_told_is_refused(http, server, installation):
    exam = make_exam(installation, n=1)
    agent = activate(http, exam.codes[0])
    old_keys = agent.act["keys"]
    captured_before = utcnow()
    r = http.delete(
        f"/api/v1/staff/exams/{exam.exam_id}/access/{installation.staff['reviewer']}",
        headers=login(server.url, "coordinator"),
    )
    assert r.status_code == 200

    # Not yet told (it was offline, say): items sealed to the old key are still accepted.
    agent.upload("screenshot", PNG)
    # Told: the server notes when this agent got the new keys.
    assert http.get(f"{v1.PREFIX}/keys", headers=agent.auth()).status_code == 200
    late_capture = agent.seal("screenshot", PNG)
    r = agent.put(
        *late_capture[:1],
        "screenshot",
        late_capture[1],
        headers={v1.H_CAPTURED_AT: iso(utcnow() + timedelta(minutes=5)) or ""},
    )
    assert r.status_code == 422
    assert "retired exam key" in r.json()["message"]
    # Captured before it was told, uploaded after (from its spool): accepted.
    item_id, sealed = agent.seal("screenshot", PNG)
    r = agent.put(item_id, "screenshot", sealed, headers={v1.H_CAPTURED_AT: iso(captured_before) or ""})
    assert r.status_code == 201, r.text
    assert old_keys["generation"] < http.get(f"{v1.PREFIX}/keys", headers=agent.auth()).json()["generation"]


def test_invigilators_copies_end_with_the_exam_window(installation):
    give_key(installation, "invigilator")
    reviewer = give_key(installation, "reviewer")
    exam = make_exam(installation, n=1, start_offset=-200, minutes=60)  # ended over two hours ago
    with installation.container.uow() as db:
        assert keys.open_exam_keys(db, exam.exam_id, reviewer)
        held = db.scalars(
            select(KeyGrant).where(KeyGrant.holder_staff_id == installation.staff["invigilator"])
        )
        assert list(held) == []  # outside the window, assignment gave no copies


def test_expire_window_grants_deletes_only_invigilators_after_the_window(installation):
    give_key(installation, "invigilator")
    give_key(installation, "reviewer")
    exam = make_exam(installation, n=1, start_offset=-1, minutes=60)
    with installation.container.uow() as db:
        assert keys.expire_window_grants(db, utcnow()) == 0
    with installation.container.uow() as db:
        expired = keys.expire_window_grants(db, utcnow() + timedelta(hours=3))
    assert expired > 0
    with installation.container.uow() as db:
        holders = {g.holder_staff_id for g in db.scalars(select(KeyGrant)) if g.holder_staff_id}
    assert installation.staff["invigilator"] not in holders
    assert installation.staff["reviewer"] in holders
    del exam


# -- the candidate's own copy -----------------------------------------------------------------------
def test_the_candidate_opens_their_own_items_and_nobody_elses(http, installation):
    exam = make_exam(installation, n=2)
    a, b = activate(http, exam.codes[0]), activate(http, exam.codes[1])
    shot = a.upload("screenshot", PNG)
    item = _item(installation, shot)
    sealed = installation.container.store.get(item.blob_key)
    assert envelope.open_bytes(sealed, a.candidate) == PNG
    with pytest.raises(envelope.NotARecipient):
        envelope.open_bytes(sealed, b.candidate)


def test_items_not_sealed_to_the_candidate_are_refused(http, installation):
    exam = make_exam(installation, n=2)
    a, b = activate(http, exam.codes[0]), activate(http, exam.codes[1])
    item_id = "f" * 32
    ctx = envelope.Context(exam.exam_id, a.session_id, item_id, "screenshot")
    only_exam = envelope.seal_bytes(PNG, ctx, [a.exam_key("screenshot")])
    r = a.put(item_id, "screenshot", only_exam)
    assert r.status_code == 422
    assert "candidate's own key" in r.json()["message"]
    to_b = envelope.seal_bytes(PNG, ctx, [a.exam_key("screenshot"), b.candidate.public_key()])
    r = a.put(item_id, "screenshot", to_b)
    assert r.status_code == 422
    assert "candidate's own key" in r.json()["message"]
    wrong_category = envelope.seal_bytes(PNG, ctx, [a.exam_key("webcam_frame"), a.candidate.public_key()])
    r = a.put(item_id, "screenshot", wrong_category)
    assert r.status_code == 422
    assert "not sealed to this exam" in r.json()["message"]


# -- the recovery key -------------------------------------------------------------------------------
def test_rotating_the_recovery_key_moves_every_copy(http, installation, tmp_path):
    exam = make_exam(installation, n=1)
    agent: Agent = activate(http, exam.codes[0])
    shot = agent.upload("screenshot", PNG)
    old = installation.recovery_key()
    document, new_public = new_recovery_key("a new recovery passphrase", "uni", iterations=1000)
    from invigil.institutions.models import Institution
    from invigil.kit.keywrap import unwrap_secret

    with installation.container.uow() as db:
        moved = keys.rotate_recovery(
            db, db.get(Institution, installation.institution_id), old, new_public, utcnow()
        )
    assert moved > 0
    new_private = x25519.X25519PrivateKey.from_private_bytes(
        unwrap_secret(
            document["wrapped_private_key"], "a new recovery passphrase", aad=document["kid"].encode()
        )
    )
    assert _open_as(installation, new_private, exam.exam_id, shot) == PNG
    with installation.container.uow() as db, pytest.raises(Exception, match="holds no copy"):
        keys.open_exam_keys(db, exam.exam_id, old)
    # New exams are sealed to the new recovery key as well.
    later = make_exam(installation, n=1)
    with installation.container.uow() as db:
        assert keys.open_exam_keys(db, later.exam_id, new_private)


def test_the_portal_serves_only_ciphertext_the_receipt_secret_opens(http, installation):
    from invigil.kit.candidate_secret import private_from_secret, secret_from_private

    exam = make_exam(installation, n=2)
    a, b = activate(http, exam.codes[0]), activate(http, exam.codes[1])
    shot = a.upload("screenshot", PNG)
    b_shot = b.upload("screenshot", PNG)
    handin = a.upload("handin_file", b"my answers")
    portal = "p" * 40
    assert a.handin([handin], portal=portal).status_code == 200
    listing = http.get(f"/api/v1/portal/{portal}").json()
    assert listing["candidate_kid"] == envelope.key_id(a.candidate.public_key())
    by_client = {i["client_id"]: i for i in listing["items"]}
    assert set(by_client) == {shot, handin}

    secret = secret_from_private(a.candidate)  # what the receipt shows
    mine = private_from_secret(secret)
    for client_id, expected in ((shot, PNG), (handin, b"my answers")):
        info = by_client[client_id]
        r = http.get(f"/api/v1/portal/{portal}/items/{info['id']}")
        assert r.status_code == 200
        ctx = envelope.Context(listing["exam"]["id"], listing["session_id"], client_id, info["kind"])
        assert envelope.open_bytes(r.content, mine, expected=ctx) == expected
        with pytest.raises(envelope.NotARecipient):
            envelope.open_bytes(r.content, b.candidate)

    other = _item(installation, b_shot)
    assert http.get(f"/api/v1/portal/{portal}/items/{other.id}").status_code == 404  # not this session's
    assert http.get(f"/api/v1/portal/{'q' * 40}").status_code == 404
    assert http.get(f"/api/v1/portal/{'q' * 200}").status_code == 404
