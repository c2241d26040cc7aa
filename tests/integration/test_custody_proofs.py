"""The promises of key custody, shown rather than assumed (docs/threat-model.md):

- no plaintext and no unwrapped private key at rest on the server, after a real simulated class;
- crypto-shredding: a copy of the ciphertext taken before expiry opens with nothing left afterwards;
- tampering: a flipped bit, a blob moved to another candidate or exam, fails with a clear error.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import x25519
from PIL import Image, ImageDraw
from sqlalchemy import select, text

from invigil.agent.runtime import AgentRuntime, policy_sources
from invigil.agent.sources.sample import SampleProcesses, SampleScreen
from invigil.evidence import shredding
from invigil.evidence.export import export_exam
from invigil.evidence.models import EvidenceItem
from invigil.exams import keys
from invigil.exams.models import Exam, ExamKey, KeyGrant
from invigil.institutions.models import Institution
from invigil.kit import envelope
from invigil.kit.db import Base
from invigil.kit.errors import NotFound
from invigil.kit.keywrap import new_recovery_key, private_raw, unwrap_secret
from invigil.sim.classroom import reads_and_accepts
from invigil.storage import BlobNotFound
from tests.factories import give_key, make_exam
from tests.integration.agentkit import activate

MARK = "MARKER-7f3a91c2-PLAINTEXT"


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


# -- no plaintext at rest -------------------------------------------------------------------------
class Recorded:
    """Wraps a capture source and keeps every plaintext it produced, to look for it later."""

    def __init__(self, source, log: list[bytes]) -> None:  # type: ignore[no-untyped-def]
        self.source, self.log, self.kind = source, log, source.kind

    def capture(self) -> bytes:
        data: bytes = self.source.capture()
        self.log.append(data)
        return data


class MarkedWebcam:
    kind = "webcam_frame"

    def capture(self) -> bytes:
        img = Image.new("RGB", (320, 240), (12, 200, 34))
        ImageDraw.Draw(img).text((10, 100), MARK, fill=(255, 0, 255))
        out = io.BytesIO()
        img.save(out, format="JPEG", quality=90, comment=MARK.encode())
        return out.getvalue()


class MarkedAnswer:
    kind = "handin_backup"

    def capture(self) -> bytes:
        return json.dumps({"file": "answer.odt", "text": f"My answer. {MARK}"}).encode()


def _needles(plaintexts: list[bytes]) -> set[bytes]:
    """Pieces of every plaintext: 32-byte windows from its start, middle and end."""
    out = set()
    for p in plaintexts:
        for at in (min(64, len(p) // 4), len(p) // 2, max(0, len(p) - 96)):
            window = p[at : at + 32]
            if len(window) == 32 and len(set(window)) > 8:  # skip runs of one byte (PNG padding)
                out.add(window)
    return out


def _key_forms(raw: bytes) -> set[bytes]:
    return {raw, base64.b64encode(raw), raw.hex().encode(), base64.urlsafe_b64encode(raw).rstrip(b"=")}


def _everything_at_rest(inst, database_url: str) -> list[tuple[str, bytes]]:
    """Every file of the installation, the database's own files, and a dump of every table."""
    found = [
        (str(p), p.read_bytes()) for p in Path(inst.container.settings.data_dir).rglob("*") if p.is_file()
    ]
    if database_url.startswith("sqlite"):
        db = Path(database_url.removeprefix("sqlite:///"))
        found += [(str(p), p.read_bytes()) for p in db.parent.glob(db.name + "*")]
    with inst.container.uow() as session:
        for table in Base.metadata.sorted_tables:
            rows = session.execute(text(f"SELECT * FROM {table.name}")).all()  # noqa: S608
            found.append((f"table {table.name}", repr(rows).encode()))
    return found


def test_no_plaintext_or_private_key_at_rest_after_a_simulated_class(
    server, installation, database_url, tmp_path
):
    staff_keys = [give_key(installation, role) for role in ("reviewer", "invigilator")]
    exam = make_exam(installation, n=2)
    plaintexts: list[bytes] = []

    def sources(policy):  # type: ignore[no-untyped-def]
        return policy_sources(
            policy,
            {
                "screenshot": lambda: Recorded(SampleScreen(label="proof", marker=MARK), plaintexts),
                "webcam_frame": lambda: Recorded(MarkedWebcam(), plaintexts),
                "process_snapshot": lambda: Recorded(SampleProcesses(extra=[MARK + ".exe"]), plaintexts),
                "handin_backup": lambda: Recorded(MarkedAnswer(), plaintexts),
            },
        )

    handin = f"Hand-in of a candidate. {MARK}\n".encode() * 20
    runtimes = [
        AgentRuntime(
            server.url,
            tmp_path / f"spool-{i}",
            code,
            sources,
            lambda: [handin],
            handin_after=7,
            read_notice=reads_and_accepts,
        )
        for i, code in enumerate(exam.codes)
    ]

    async def run_all():  # type: ignore[no-untyped-def]
        return await asyncio.gather(*(r.run() for r in runtimes))

    statuses = asyncio.run(run_all())
    assert [s.phase for s in statuses] == ["closed", "closed"], [s.error for s in statuses]
    assert len(plaintexts) >= 6
    plaintexts.append(handin)

    # Every private key there is: the exam's (opened here with the recovery key), the staff's, the
    # candidates' (from their own spools), the recovery key itself.
    secrets_: list[bytes] = []
    with installation.container.uow() as db:
        secrets_ += [
            private_raw(k)
            for k in keys.open_exam_keys(db, exam.exam_id, installation.recovery_key()).values()
        ]
    secrets_ += [private_raw(k) for k in staff_keys]
    secrets_ += [private_raw(installation.recovery_key())]
    for r in runtimes:
        spool = r.spool.__class__(r.spool.folder)
        secrets_.append(envelope.b64d(spool.get("candidate_key")))
        spool.close()
    receipt_secrets = {s.receipt_secret.encode() for s in statuses}

    needles = {MARK.encode()} | _needles(plaintexts) | receipt_secrets
    needles |= {form for s in secrets_ for form in _key_forms(s)}
    at_rest = _everything_at_rest(installation, database_url)
    assert any(name.startswith("table evidence_items") for name, _ in at_rest)
    leaks = [(name, n[:16]) for name, blob in at_rest for n in needles if n in blob]
    assert leaks == []

    # The search itself works: the same needles are found where plaintext does exist.
    assert all(any(n in p for p in plaintexts) for n in _needles(plaintexts))
    assert any(MARK.encode() in p for p in plaintexts)
    # And what is at rest does open, with the keys, to exactly those plaintexts.
    assert _export_errors(installation, exam.exam_id, tmp_path / "export") == []
    opened = [
        p.read_bytes() for p in (tmp_path / "export").rglob("*") if p.is_file() and p.name != "manifest.json"
    ]
    assert opened
    assert all(o in plaintexts for o in opened)


# -- crypto-shredding -----------------------------------------------------------------------------
def test_shredded_category_cannot_be_opened_from_a_copy_taken_before_expiry(http, installation, tmp_path):
    reviewer = give_key(installation, "reviewer")
    exam = make_exam(installation, n=1)
    with installation.container.uow() as db:
        row = db.get(Exam, exam.exam_id)
        assert row is not None
        row.retention = {**row.retention, "webcam": 1, "screen": 30}
    agent = activate(http, exam.codes[0])
    frame = agent.upload("webcam_frame", b"\xff\xd8 a face " * 40)
    shot = agent.upload("screenshot", b"\x89PNG a screen " * 40)

    # The copy an attacker (or a forgotten backup) keeps: every row, every blob.
    def item(client_id: str) -> EvidenceItem:
        with installation.container.uow() as db:
            found = db.scalar(select(EvidenceItem).where(EvidenceItem.client_id == client_id))
            assert found is not None
            db.expunge(found)
            return found

    copied = {cid: installation.container.store.get(item(cid).blob_key) for cid in (frame, shot)}
    kid_of = {cid: item(cid).exam_kid for cid in (frame, shot)}

    # Time passes: the webcam category expires (1 day), the screen category does not (30 days).
    with installation.container.uow() as db:
        ends_at = db.get(Exam, exam.exam_id).ends_at  # type: ignore[union-attr]
    done = shredding.run(installation.container, ends_at + timedelta(days=2))
    assert [(d.category, d.items) for d in done] == [("webcam", 1)]
    assert shredding.run(installation.container, ends_at + timedelta(days=2)) == []  # idempotent

    # The database and blob store hold nothing for the webcam category any more.
    with installation.container.uow() as db:
        webcam_keys = db.scalars(
            select(ExamKey).where(ExamKey.exam_id == exam.exam_id, ExamKey.category == "webcam")
        ).all()
        assert webcam_keys
        assert all(k.shredded_at is not None for k in webcam_keys)
        assert (
            db.scalars(select(KeyGrant).where(KeyGrant.exam_kid.in_([k.kid for k in webcam_keys]))).all()
            == []
        )
        assert db.get(EvidenceItem, item(frame).id).status == "shredded"  # type: ignore[union-attr]
    with pytest.raises(BlobNotFound):
        installation.container.store.get(item(frame).blob_key)

    # A later rotation of the recovery key: the new file is the one the institution keeps.
    document, new_public = new_recovery_key("the next recovery passphrase", "uni", iterations=1000)
    with installation.container.uow() as db:
        keys.rotate_recovery(
            db,
            db.get(Institution, installation.institution_id),
            installation.recovery_key(),
            new_public,
            ends_at,
        )
    later_recovery = x25519.X25519PrivateKey.from_private_bytes(
        unwrap_secret(
            document["wrapped_private_key"], "the next recovery passphrase", aad=document["kid"].encode()
        )
    )

    # Everything left that can open anything: every sealed copy in the database, opened with every
    # key that still exists (the later recovery key, the reviewer's key).
    openable: dict[str, x25519.X25519PrivateKey] = {}
    with installation.container.uow() as db:
        for holder in (later_recovery, reviewer):
            with contextlib.suppress(NotFound):  # a holder with no copies left is fine
                openable.update(keys.open_exam_keys(db, exam.exam_id, holder))
    assert kid_of[frame] not in openable
    for key in openable.values():
        with pytest.raises(envelope.EnvelopeError):
            envelope.open_bytes(copied[frame], key)
    # Control: the same procedure does open the copied screenshot, whose category is still kept.
    assert envelope.open_bytes(copied[shot], openable[kid_of[shot] or ""]) == b"\x89PNG a screen " * 40


# -- tampering ------------------------------------------------------------------------------------
def _export_errors(inst, exam_id: str, out: Path) -> list[str]:
    with inst.container.uow() as db:
        result = export_exam(db, inst.container.store, exam_id, inst.recovery_key(), out)
    return [f["error"] for f in result.failed]


def test_tampered_or_moved_blobs_fail_to_open_with_a_clear_error(http, installation, tmp_path):
    first, second = make_exam(installation, n=2), make_exam(installation, n=1)
    a, b = activate(http, first.codes[0]), activate(http, first.codes[1])
    other = activate(http, second.codes[0])
    body = b"\x89PNG " + bytes(range(256)) * 600  # three chunks
    items = {name: agent.upload("screenshot", body) for name, agent in (("a", a), ("b", b), ("other", other))}
    store = installation.container.store

    def key_of(client_id: str) -> str:
        with installation.container.uow() as db:
            return db.scalar(select(EvidenceItem.blob_key).where(EvidenceItem.client_id == client_id)) or ""

    assert _export_errors(installation, first.exam_id, tmp_path / "clean") == []
    original = store.get(key_of(items["a"]))
    header = envelope.read_header(io.BytesIO(original))
    for position, where in [
        (20, "header"),
        (len(header.raw) - 3, "header"),
        (len(header.raw) + 5, "chunk 0"),
        (len(original) - 1, "chunk 2"),
    ]:
        flipped = bytearray(original)
        flipped[position] ^= 0x04
        store.put(key_of(items["a"]), bytes(flipped))
        errors = _export_errors(installation, first.exam_id, tmp_path / f"flip-{position}")
        assert len(errors) == 1, where
        assert any(
            w in errors[0] for w in ("altered", "does not open", "not in canonical form", "malformed")
        ), errors

    store.put(key_of(items["a"]), store.get(key_of(items["b"])))  # B's blob filed as A's
    (error,) = _export_errors(installation, first.exam_id, tmp_path / "moved-candidate")
    assert "envelope belongs to" in error
    store.put(key_of(items["a"]), store.get(key_of(items["other"])))  # from another exam
    (error,) = _export_errors(installation, first.exam_id, tmp_path / "moved-exam")
    assert "not among the envelope's recipients" in error or "envelope belongs to" in error
    store.put(key_of(items["a"]), original)
    assert _export_errors(installation, first.exam_id, tmp_path / "restored") == []


def test_a_tampered_key_copy_fails_clearly(installation):
    give_key(installation, "reviewer")
    exam = make_exam(installation, n=1)
    with installation.container.uow() as db:
        grant = db.scalars(select(KeyGrant).where(KeyGrant.holder_kind == "recovery")).first()
        assert grant is not None
        raw = bytearray(envelope.b64d(grant.sealed_private_key))
        raw[40] ^= 1
        grant.sealed_private_key = envelope.b64e(bytes(raw))
    with installation.container.uow() as db, pytest.raises(envelope.TamperedEnvelope, match="does not open"):
        keys.open_exam_keys(db, exam.exam_id, installation.recovery_key())
