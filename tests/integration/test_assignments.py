"""PIN-sealed assignments over real HTTP: upload, download, open, who may do what, and what the server
never holds. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import os
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text, update

from invigil.accounts import service as accounts
from invigil.accounts.models import Role
from invigil.agent.assignment import AssignmentKeeper, NotReady, WrongPin
from invigil.agent.client import AgentClient
from invigil.agent.spool import Spool
from invigil.assignments.models import AssignmentFile, AssignmentSet
from invigil.container import Container
from invigil.institutions import service as institutions
from invigil.kit import pinseal
from invigil.kit.clock import utcnow
from invigil.models import metadata
from invigil.protocol import assignment as proto
from invigil.protocol import v1
from tests.factories import PASSWORD, ThreadServer, enrol, login, login_as, make_exam
from tests.integration.agentkit import activate

PIN = "K7QM-3XPD"
MARKER = b"PLAINTEXT-MARKER-7f3a9c"
BIG = MARKER + os.urandom(200_000) + b"end of the big file"
FILES = {"Opgave 2026.pdf": b"%PDF-1.7\n" + MARKER + b" exercise 1: prove P != NP\n", "data.bin": BIG}


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def exam(installation):
    """Starts in 10 minutes: candidates can activate, the coordinator can still replace the assignment."""
    return make_exam(installation, n=3, start_offset=10)


def sealed(exam_id: str, files: dict[str, bytes], pin: str = PIN) -> bytes:
    key = pinseal.new_key(pin, exam_id)
    return b"".join(pinseal.seal_bytes(data, key, name, chunk=4096) for name, data in files.items())


def put(http, exam_id: str, body: bytes, headers: dict[str, str], sha: str | None = None) -> httpx.Response:
    h = {**headers, v1.H_SHA256: sha or hashlib.sha256(body).hexdigest()}
    return http.put(f"/api/v1/staff/exams/{exam_id}/assignment-set", content=body, headers=h)


def upload(http, server, exam_id: str, files: dict[str, bytes] = FILES, pin: str = PIN) -> dict:
    r = put(http, exam_id, sealed(exam_id, files, pin), login(server.url, "coordinator"))
    assert r.status_code == 200, r.text
    return r.json()


def board(server, exam_id: str) -> dict[str, dict]:
    r = httpx.get(
        f"{server.url}/api/v1/staff/exams/{exam_id}/sessions", headers=login(server.url, "coordinator")
    )
    r.raise_for_status()
    return {row["session_id"]: row for row in r.json()["sessions"]}


class Candidate:
    """The agent's assignment keeper over real HTTP, with its own spool and work folder."""

    def __init__(self, url: str, secret: str, folder: Path) -> None:
        self.client = AgentClient(url, token=secret)
        self.spool = Spool(folder / "spool")
        self.keeper = AssignmentKeeper(self.client, self.spool, folder / "work", refresh_seconds=0.2)
        self.work = folder / "work"

    async def receive(self, exam_id: str, starts_at, until: str = "received", timeout: float = 20) -> None:
        task = asyncio.create_task(self.keeper.keep(exam_id, starts_at))
        try:
            for _ in range(int(timeout / 0.05)):
                if self.keeper.state.phase == until or (until == "error" and self.keeper.state.error):
                    return
                await asyncio.sleep(0.05)
            raise AssertionError(f"keeper stuck: {self.keeper.state}")
        finally:
            task.cancel()

    async def close(self) -> None:
        self.keeper.stop()
        await self.client.aclose()
        self.spool.close()


def _starts(agent) -> object:
    from datetime import datetime

    return datetime.fromisoformat(agent.act["exam"]["starts_at"].replace("Z", "+00:00"))


def everything_the_server_holds(c: Container) -> bytes:
    """Every row of every table and every blob, as bytes (SQLite: also the raw database files)."""
    out = []
    with c.engine.connect() as conn:
        for table in metadata.sorted_tables:
            out += [repr(tuple(row)).encode() for row in conn.execute(table.select())]
    out += [p.read_bytes() for p in c.settings.effective_blob_dir.rglob("*") if p.is_file()]
    if c.engine.dialect.name == "sqlite":
        db = Path(c.engine.url.database or "")
        out += [p.read_bytes() for p in db.parent.glob(db.name + "*")]
    return b"\n".join(out)


# -- the whole flow --------------------------------------------------------------------------------


def test_upload_download_wrong_pin_right_pin(http, server, exam, installation, tmp_path):
    meta = upload(http, server, exam.exam_id)
    assert meta["status"] == "uploaded"
    assert [f["name"] for f in meta["files"]] == list(FILES)
    assert meta["kdf"]["alg"] == "argon2id"
    agent = activate(http, exam.codes[0])
    other = activate(http, exam.codes[1])

    async def flow() -> list[Path]:
        cand = Candidate(server.url, agent.secret, tmp_path / "a")
        try:
            await cand.receive(exam.exam_id, _starts(agent))
            row = board(server, exam.exam_id)[agent.session_id]
            assert row["assignment_received_at"] is not None
            assert row["assignment_opened_at"] is None
            with pytest.raises(WrongPin, match="does not open the assignment"):
                await cand.keeper.open("K7QM-3XPE")
            assert not cand.work.exists() or list(cand.work.iterdir()) == []
            paths = await cand.keeper.open("k7qm 3xpd")  # typed sloppily, like an activation code
            await cand.keeper.settle()
            return paths
        finally:
            await cand.close()

    paths = asyncio.run(flow())
    assert {p.name: p.read_bytes() for p in paths} == FILES
    rows = board(server, exam.exam_id)
    assert rows[agent.session_id]["assignment_opened_at"] is not None
    assert rows[other.session_id]["assignment_received_at"] is None  # activated, never downloaded
    assert rows[other.session_id]["assignment_opened_at"] is None

    held = everything_the_server_holds(installation.container)
    assert MARKER in BIG
    assert len(held) > len(BIG)
    for secret in (MARKER, b"exercise 1", PIN.encode(), PIN.replace("-", "").encode(), b"k7qm"):
        assert secret not in held


def test_opening_needs_no_network_once_received(http, server, exam, tmp_path):
    upload(http, server, exam.exam_id)
    agent = activate(http, exam.codes[0])

    async def flow() -> list[Path]:
        cand = Candidate(server.url, agent.secret, tmp_path / "a")
        await cand.receive(exam.exam_id, _starts(agent))
        await cand.client.aclose()
        cand.client = AgentClient("http://127.0.0.1:9", token=agent.secret)  # the network is gone
        cand.keeper.client = cand.client
        try:
            return await cand.keeper.open(PIN)
        finally:
            await cand.close()

    assert {p.name: p.read_bytes() for p in asyncio.run(flow())} == FILES


def test_nothing_to_open_before_the_download(http, server, exam, tmp_path):
    agent = activate(http, exam.codes[0])

    async def flow() -> None:
        cand = Candidate(server.url, agent.secret, tmp_path / "a")
        try:
            await cand.receive(exam.exam_id, _starts(agent), until="none")
            with pytest.raises(NotReady, match="not been downloaded"):
                await cand.keeper.open(PIN)
        finally:
            await cand.close()

    asyncio.run(flow())
    r = http.get(f"{v1.PREFIX}/assignment", headers=agent.auth())
    assert r.json()["available"] is False


# -- what the agent refuses ------------------------------------------------------------------------


def test_a_blob_altered_in_storage_is_not_accepted(http, server, exam, installation, tmp_path):
    upload(http, server, exam.exam_id)
    agent = activate(http, exam.codes[0])
    c = installation.container
    with c.uow() as db:
        key = db.scalar(select(AssignmentFile.blob_key).where(AssignmentFile.position == 1))
    data = bytearray(c.store.get(key))
    data[-100] ^= 1
    c.store.put(key, bytes(data))

    async def flow() -> str:
        cand = Candidate(server.url, agent.secret, tmp_path / "a")
        try:
            await cand.receive(exam.exam_id, _starts(agent), until="error")
            assert cand.keeper.state.phase == "waiting"
            return cand.keeper.state.error
        finally:
            await cand.close()

    assert "'data.bin' arrived damaged" in asyncio.run(flow())
    assert board(server, exam.exam_id)[agent.session_id]["assignment_received_at"] is None


def test_a_file_swapped_in_from_another_exam_does_not_open(http, server, installation, tmp_path):
    a = make_exam(installation, n=1, start_offset=10)
    b = make_exam(installation, n=1, start_offset=10)
    upload(http, server, a.exam_id, {"opgave.pdf": b"A's assignment"})
    upload(http, server, b.exam_id, {"opgave.pdf": b"B's assignment"})
    c = installation.container
    # A compromised server serves exam A's file to exam B's candidates, metadata and all.
    with c.uow() as db:
        files = {
            s.exam_id: db.scalar(select(AssignmentFile).where(AssignmentFile.set_id == s.id))
            for s in db.scalars(select(AssignmentSet)).all()
        }
        fa, fb = files[a.exam_id], files[b.exam_id]
        c.store.put(fb.blob_key, c.store.get(fa.blob_key))
        digest = proto.digest([(fa.name, fa.size, fa.sha256)])
        db.execute(
            update(AssignmentFile).where(AssignmentFile.id == fb.id).values(size=fa.size, sha256=fa.sha256)
        )
        db.execute(update(AssignmentSet).where(AssignmentSet.exam_id == b.exam_id).values(digest=digest))
    agent = activate(http, b.codes[0])

    async def flow() -> str:
        cand = Candidate(server.url, agent.secret, tmp_path / "b")
        try:
            await cand.receive(b.exam_id, _starts(agent), until="error")
            return cand.keeper.state.error
        finally:
            await cand.close()

    assert "sealed for another exam" in asyncio.run(flow())


def test_a_file_sealed_for_another_exam_is_refused_at_upload(http, server, installation):
    a = make_exam(installation, n=1, start_offset=10)
    b = make_exam(installation, n=1, start_offset=10)
    r = put(http, b.exam_id, sealed(a.exam_id, {"opgave.pdf": b"A"}), login(server.url, "coordinator"))
    assert r.status_code == 422
    assert "sealed for another exam" in r.json()["message"]


def test_candidates_get_their_own_exams_assignment_only(http, server, installation, tmp_path):
    a = make_exam(installation, n=1, start_offset=10)
    b = make_exam(installation, n=1, start_offset=10)
    upload(http, server, a.exam_id, {"a.txt": b"exam A " + MARKER})
    upload(http, server, b.exam_id, {"b.txt": b"exam B"})
    agent_b = activate(http, b.codes[0])
    manifest = http.get(f"{v1.PREFIX}/assignment", headers=agent_b.auth()).json()
    assert [f["name"] for f in manifest["files"]] == ["b.txt"]
    for index in range(3):
        r = http.get(f"{v1.PREFIX}/assignment/files/{index}", headers=agent_b.auth())
        assert r.status_code == (200 if index == 0 else 404)
        assert MARKER not in r.content
        assert b"a.txt" not in r.content
    manifest_a = http.get(f"{v1.PREFIX}/assignment", headers=activate(http, a.codes[0]).auth()).json()
    r = http.post(
        f"{v1.PREFIX}/assignment/received", json={"digest": manifest_a["digest"]}, headers=agent_b.auth()
    )
    assert r.status_code == 409
    assert "download it again" in r.json()["message"]
    for path in ("/assignment", "/assignment/files/0"):
        assert http.get(v1.PREFIX + path).status_code == 401
        assert http.get(v1.PREFIX + path, headers={"Authorization": "Bearer nope"}).status_code == 401


# -- who may upload --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin", 200), ("coordinator", 200), ("invigilator", 403), ("reviewer", 403), ("examiner", 403)],
)
def test_only_coordinators_and_admins_upload(http, server, exam, role, status):
    r = put(http, exam.exam_id, sealed(exam.exam_id, {"x.txt": b"x"}), login(server.url, role))
    assert r.status_code == status, r.text
    info = http.get(f"/api/v1/staff/exams/{exam.exam_id}/assignment-set", headers=login(server.url, role))
    assert info.status_code == status
    assert put(http, exam.exam_id, b"", {}).status_code == 401


def test_another_institutions_coordinator_cannot_upload(http, server, exam, installation):
    c = installation.container
    with c.uow() as db:
        other = institutions.create(
            db, slug="other", name="Other U", region="eu", recovery_kid="k" * 32, recovery_public_key="x"
        )
        coord = accounts.create_staff(db, other, "coord@other.example", "Coord", Role.COORDINATOR, PASSWORD)
        enrol(db, coord)
    headers = login_as(server.url, "coord@other.example", institution="other")
    r = put(http, exam.exam_id, sealed(exam.exam_id, {"x.txt": b"x"}), headers)
    assert r.status_code == 403
    with c.uow() as db:
        assert db.scalar(select(AssignmentSet)) is None


# -- what the server refuses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../evil.txt", "..\\evil.txt", "/etc/passwd", "sub/x.pdf", ".bashrc", "CON.txt", "a\x00b", ".."]
)
def test_path_traversal_names_are_refused(http, server, exam, name, monkeypatch):
    monkeypatch.setattr(pinseal, "check_file_name", lambda n: n)  # a forged client skips the check
    body = sealed(exam.exam_id, {name: b"payload"})
    monkeypatch.undo()
    r = put(http, exam.exam_id, body, login(server.url, "coordinator"))
    assert r.status_code == 422
    assert "file name" in r.json()["message"]


def test_duplicate_names_are_refused(http, server, exam):
    body = sealed(exam.exam_id, {"Opgave.pdf": b"1"}) + sealed(exam.exam_id, {"opgave.PDF": b"2"})
    r = put(http, exam.exam_id, body, login(server.url, "coordinator"))
    assert r.status_code == 422
    assert "sealed together with one PIN" in r.json()["message"]  # two uploads, two salts
    key = pinseal.new_key(PIN, exam.exam_id)
    body = pinseal.seal_bytes(b"1", key, "Opgave.pdf") + pinseal.seal_bytes(b"2", key, "opgave.PDF")
    r = put(http, exam.exam_id, body, login(server.url, "coordinator"))
    assert r.status_code == 422
    assert "names must differ" in r.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"%PDF-1.7 a plain PDF, not sealed", "wrong magic bytes"),
        (b"INVGASG1\x00\x00\x00\x03{}}", "malformed"),
    ],
)
def test_unsealed_uploads_are_refused(http, server, exam, body, message):
    r = put(http, exam.exam_id, body, login(server.url, "coordinator"))
    assert r.status_code == 422
    assert message in r.json()["message"]


def test_truncated_or_corrupted_uploads_are_refused(http, server, exam):
    body = sealed(exam.exam_id, FILES)
    headers = login(server.url, "coordinator")
    r = put(http, exam.exam_id, body[:-1], headers)
    assert r.status_code == 422
    assert "truncated" in r.json()["message"]
    r = put(http, exam.exam_id, body, headers, sha="0" * 64)
    assert r.status_code == 400
    assert "corrupted on the way" in r.json()["message"]


def test_oversized_upload_is_refused(installation, exam):
    small = Container.from_settings(
        installation.container.settings.model_copy(update={"max_request_bytes": 64 * 1024})
    )
    srv = ThreadServer(small).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=30) as http:
            headers = login(srv.url, "coordinator")
            r = put(http, exam.exam_id, sealed(exam.exam_id, {"big.bin": os.urandom(70 * 1024)}), headers)
            assert r.status_code == 413
            assert "An assignment may be at most 64 KiB" in r.json()["message"]
            r = put(http, exam.exam_id, sealed(exam.exam_id, {"big.bin": os.urandom(1 << 20)}), headers)
            assert r.status_code == 413  # refused before the body is read
            assert r.json()["error"] == "payload_too_large"
    finally:
        srv.stop()
        small.close()
    with installation.container.uow() as db:
        assert db.scalar(select(AssignmentSet)) is None


def test_too_many_files_are_refused(http, server, exam):
    key = pinseal.new_key(PIN, exam.exam_id)
    body = b"".join(pinseal.seal_bytes(b"x", key, f"f{i}.txt") for i in range(51))
    r = put(http, exam.exam_id, body, login(server.url, "coordinator"))
    assert r.status_code == 422
    assert "at most 50 files" in r.json()["message"]


# -- replacing -------------------------------------------------------------------------------------


def test_replacing_before_the_start_resets_and_reaches_the_agent(http, server, exam, installation, tmp_path):
    first = upload(http, server, exam.exam_id, {"v1.txt": b"version one"})
    agent = activate(http, exam.codes[0])

    async def flow() -> list[Path]:
        cand = Candidate(server.url, agent.secret, tmp_path / "a")
        try:
            await cand.receive(exam.exam_id, _starts(agent))
            second = upload(http, server, exam.exam_id, {"v2.txt": b"version two"}, pin="PZ4N-8QWC")
            assert (second["status"], second["version"]) == ("replaced", 2)
            assert second["salt"] != first["salt"]
            assert board(server, exam.exam_id)[agent.session_id]["assignment_received_at"] is None
            with pytest.raises(WrongPin):
                await cand.keeper.open(PIN)  # the old PIN no longer opens: the agent fetched v2
            return await cand.keeper.open("PZ4N-8QWC")
        finally:
            await cand.close()

    assert {p.name: p.read_bytes() for p in asyncio.run(flow())} == {"v2.txt": b"version two"}
    c = installation.container
    keys = [k for k in c.settings.effective_blob_dir.rglob("*") if k.is_file()]
    assert len(keys) == 1  # the replaced version's blob is gone


def test_replacing_after_the_start_is_refused(http, server, installation):
    started = make_exam(installation, n=1, start_offset=-1)
    r = put(http, started.exam_id, sealed(started.exam_id, {"x.txt": b"x"}), login(server.url, "coordinator"))
    assert r.status_code == 409
    assert "can no longer be uploaded or replaced" in r.json()["message"]
    c = installation.container
    upcoming = make_exam(installation, n=1, start_offset=10)
    upload(http, server, upcoming.exam_id, {"x.txt": b"x"})
    with c.uow() as db:
        db.execute(
            text("UPDATE exams SET starts_at = :t WHERE id = :id"),
            {"t": utcnow() - timedelta(seconds=1), "id": upcoming.exam_id},
        )
    r = put(
        http, upcoming.exam_id, sealed(upcoming.exam_id, {"y.txt": b"y"}), login(server.url, "coordinator")
    )
    assert r.status_code == 409
    info = http.get(
        f"/api/v1/staff/exams/{upcoming.exam_id}/assignment-set", headers=login(server.url, "admin")
    )
    assert [f["name"] for f in info.json()["files"]] == ["x.txt"]


def test_received_and_opened_are_idempotent(http, server, exam):
    upload(http, server, exam.exam_id)
    agent = activate(http, exam.codes[0])
    digest = http.get(f"{v1.PREFIX}/assignment", headers=agent.auth()).json()["digest"]
    first = http.post(
        f"{v1.PREFIX}/assignment/received", json={"digest": digest}, headers=agent.auth()
    ).json()
    again = http.post(
        f"{v1.PREFIX}/assignment/received", json={"digest": digest}, headers=agent.auth()
    ).json()
    assert first == again
    opened = http.post(f"{v1.PREFIX}/assignment/opened", json={"digest": digest}, headers=agent.auth()).json()
    assert (
        http.post(f"{v1.PREFIX}/assignment/opened", json={"digest": digest}, headers=agent.auth()).json()
        == opened
    )
    assert opened["received_at"] == first["received_at"]
    r = http.post(f"{v1.PREFIX}/assignment/opened", json={"digest": "nothex"}, headers=agent.auth())
    assert r.status_code == 422
