"""The access log's own retention (ADR 0022): pruned to a signed checkpoint, keeping what must stay
(an exam whose period has not ended, a held exam, the retention entries certificates are made of);
the pruned chain still verifies, and editing or deleting what was kept, or forging the prune record,
is found. The database refuses to delete anything no prune covers. SQLite and PostgreSQL."""

# ruff: noqa: S608 - the attacks below are deliberate raw SQL on ids the test itself read

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from invigil.audit import chain
from invigil.audit.models import AccessLogEntry, AuditLink
from invigil.exams.models import Exam
from invigil.kit import signing
from invigil.kit.clock import utcnow
from invigil.retention import access_log, certificate, engine, holds
from tests.factories import make_exam
from tests.integration.test_audit_chain import as_admin, problems, report, write


def log(c, exam_id: str | None, action: str = "evidence.read", n: int = 1) -> None:
    write(c, n, action, exam_id)


def checkpoint(c) -> int:
    with c.uow() as db:
        row = chain.checkpoint(db, c.signer, c.settings.data_dir, utcnow())
        assert row is not None
        return row.seq


def prune(c, now) -> access_log.Pruned | None:
    with c.uow() as db:
        return access_log.prune(db, c.signer, now)


def entries(c) -> list[tuple[int, str | None, str]]:
    """(seq, exam, action) of every entry still in the log."""
    with c.uow() as db:
        rows = db.execute(
            select(AuditLink.seq, AccessLogEntry.exam_id, AccessLogEntry.action)
            .join(AccessLogEntry, AccessLogEntry.id == AuditLink.entry_id)
            .order_by(AuditLink.seq)
        )
        return [tuple(r) for r in rows]


@pytest.fixture
def exams(installation):
    """An old exam whose log period ends, and one that keeps its log for ten years."""
    c = installation.container
    old, kept = make_exam(installation, n=1), make_exam(installation, n=1)
    with c.uow() as db:
        db.get(Exam, kept.exam_id).retention = {"access_and_audit_logs": 3650}
        ends = db.get(Exam, old.exam_id).ends_at
    return old.exam_id, kept.exam_id, ends + timedelta(days=400)


def test_prune_deletes_what_has_expired_up_to_the_checkpoint_and_keeps_the_rest(installation, exams):
    c = installation.container
    old, kept, later = exams
    log(c, old, n=5)
    log(c, kept, n=3)
    log(c, None, "login", n=2)  # no exam: the institution's default period, counted from the entry
    log(c, old, "retention.shred_keys")
    point = checkpoint(c)
    log(c, old, n=2)  # after the checkpoint: not prunable yet

    assert prune(c, utcnow()) is None  # nothing has expired today
    done = prune(c, later)
    assert done is not None
    assert done.up_to_seq == point
    left = entries(c)
    before, after = [e for e in left if e[0] <= point], [e for e in left if e[0] > point]
    # Before the point only what must stay: the long-kept exam and the retention entries.
    assert {(exam, action) for _, exam, action in before} <= {(kept, a) for *_, a in before} | {
        (old, "retention.shred_keys")
    }
    assert sum(1 for _, exam, _ in before if exam == kept) >= 3
    assert (old, "retention.shred_keys") in {(e, a) for _, e, a in before}
    assert done.kept == len(before)
    # After it, everything, and the prune's own entry.
    assert [a for _, e, a in after if e == old] == ["evidence.read", "evidence.read"]
    assert after[-1][2] == "audit.prune"

    r = report(c, (signing.public_b64(c.signer),))  # signed by this installation's key
    assert r.intact, problems(r)
    assert r.pruned_to == point
    assert prune(c, later) is None  # nothing new until the next checkpoint

    # The certificate: due while the two late entries wait for a checkpoint, then destroyed.
    with c.uow() as db:
        exam = db.get(Exam, old)
        body = certificate.build(db, exam, c.signer, later)["body"]["categories"]["access_and_audit_logs"]
    assert body["status"].startswith("due: pruned")
    assert body["remaining"] == {"access_log_entries": 2, "retention_entries": 1}
    checkpoint(c)
    assert any(line.startswith("access log:") for line in engine.run(c, later))
    with c.uow() as db:
        exam = db.get(Exam, old)
        body = certificate.build(db, exam, c.signer, later)["body"]["categories"]["access_and_audit_logs"]
    assert body["status"].startswith("destroyed")
    assert body["remaining"]["access_log_entries"] == 0
    assert body["remaining"]["retention_entries"] >= 1  # this run's shredding added its own
    r = report(c)
    assert r.intact, problems(r)


def test_a_held_exam_keeps_its_log(installation, exams):
    c = installation.container
    old, _, later = exams
    log(c, old, n=3)
    with c.uow() as db:
        holds.place(
            db, old, None, installation.staff["reviewer"], "Complaint 2026-301 is still open.", utcnow()
        )
    checkpoint(c)
    prune(c, later)
    assert sum(1 for _, e, a in entries(c) if e == old and a == "evidence.read") == 3


def test_what_was_kept_cannot_be_edited_or_deleted_unseen(installation, exams):
    c = installation.container
    old, kept, later = exams
    log(c, old, n=2)
    log(c, kept, n=2)
    checkpoint(c)
    assert prune(c, later) is not None
    with c.engine.connect() as conn:
        sql = text(f"SELECT id FROM access_log WHERE exam_id = '{kept}' ORDER BY id")
        kept_ids = [r[0] for r in conn.execute(sql)]
    # Deleting a kept entry and its link is allowed by the database (a prune covers the place) …
    with c.engine.begin() as conn:
        conn.execute(text(f"DELETE FROM access_log WHERE id = {kept_ids[0]}"))
        conn.execute(text(f"DELETE FROM audit_chain WHERE entry_id = {kept_ids[0]}"))
    # … but the signed digest of what was kept no longer matches.
    r = report(c)
    assert any("entries kept at the prune were deleted or rewritten" in p for p in problems(r)), problems(r)

    as_admin(c, f"UPDATE access_log SET action = 'evidence.list' WHERE id = {kept_ids[1]}")
    assert any("was edited after it was written" in p for p in problems(report(c)))

    as_admin(c, "UPDATE audit_prunes SET deleted = 0")
    assert any("the prune record was altered" in p for p in problems(report(c)))


def test_nothing_a_prune_does_not_cover_can_be_deleted(installation, exams):
    c = installation.container
    old, _, later = exams
    log(c, old, n=2)
    checkpoint(c)
    prune(c, later)
    log(c, old, n=1)  # after the prune point
    with c.engine.connect() as conn:
        newest = conn.execute(text("SELECT MAX(id) FROM access_log")).scalar_one()
    for statement in (
        f"DELETE FROM access_log WHERE id = {newest}",
        "DELETE FROM audit_chain WHERE seq = (SELECT MAX(seq) FROM audit_chain)",
        "DELETE FROM audit_prunes",
        "UPDATE audit_prunes SET kept = 0",
    ):
        with pytest.raises(Exception, match="append-only"), c.engine.begin() as conn:
            conn.execute(text(statement))
