"""The access log as a hash chain: every edit, deletion, reordering or insertion behind its back is
found and located; rolled-back work leaves no links; concurrent writers keep one chain; signed
checkpoints catch a chain rewritten from the inside. SQLite and PostgreSQL.

The attacks below have database administrator rights: they switch the append-only triggers off
first, as someone who owns the database server could."""

# ruff: noqa: S608 - the attacks below are deliberate raw SQL on ids the test itself read

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from invigil.audit import chain
from invigil.audit import service as audit
from invigil.audit.models import AccessLogEntry
from invigil.kit import signing
from invigil.kit.clock import utcnow

TABLES = ("access_log", "audit_chain", "audit_checkpoints", "audit_prunes")


def write(c, n: int, action: str = "evidence.read", exam_id: str | None = "e-1", **detail) -> None:
    with c.uow() as db:
        for i in range(n):
            audit.record(
                db,
                actor_kind="staff",
                actor_id="s-1",
                action=action,
                at=utcnow(),
                exam_id=exam_id,
                item_id=f"item-{i}",
                **detail,
            )


def report(c, keys: tuple[str, ...] = ()) -> chain.Report:
    with c.uow() as db:
        return chain.verify(db, c.settings.data_dir, keys)


def as_admin(c, *statements: str) -> None:
    """Run SQL with the append-only protection switched off."""
    with c.engine.begin() as conn:
        pg = conn.dialect.name == "postgresql"
        for table in TABLES:
            if pg:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            else:
                for verb in ("update", "delete"):
                    name = f"{table}_no_{verb}" if table != "access_log" else f"access_log_no_{verb}"
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        for statement in statements:
            conn.execute(text(statement))
        if pg:
            for table in TABLES:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))


def ids(c) -> list[int]:
    with c.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT id FROM access_log ORDER BY id"))]


def problems(r: chain.Report) -> list[str]:
    return [str(f) for f in r.findings]


def test_entries_are_chained_in_their_transaction_and_verify(installation):
    c = installation.container
    before = report(c).links  # setting up the installation is logged too (staff created)
    write(c, 3)
    write(c, 2, action="evidence.export", note={"nested": [1, 2]}, when=utcnow())
    r = report(c)
    assert r.intact, problems(r)
    assert (r.entries, r.links) == (before + 5, before + 5)


def test_rolled_back_work_leaves_neither_entry_nor_link(installation):
    c = installation.container
    before = report(c).links
    write(c, 1)

    def failing_read() -> None:
        with c.uow() as db:
            audit.record(db, actor_kind="staff", actor_id="s", action="evidence.read", at=utcnow())
            db.flush()
            raise RuntimeError("the read failed")

    with pytest.raises(RuntimeError):
        failing_read()
    write(c, 1)
    r = report(c)
    assert r.intact, problems(r)
    assert r.links == before + 2


def test_the_log_stays_append_only_without_admin_rights(installation):
    c = installation.container
    write(c, 1)
    for statement in ("UPDATE audit_chain SET hash = 'x'", "DELETE FROM audit_chain"):
        with pytest.raises(Exception, match="append-only"), c.engine.begin() as conn:
            conn.execute(text(statement))


def test_an_edited_entry_is_found_and_located(installation):
    c = installation.container
    base = report(c).links
    write(c, 4)
    victim = ids(c)[base + 2]
    as_admin(c, f"UPDATE access_log SET actor_id = 'someone-else' WHERE id = {victim}")
    (finding,) = report(c).findings
    assert finding.where == f"seq {base + 3} (entry {victim})"
    assert "edited" in finding.problem


def test_a_deleted_entry_and_a_deleted_link_are_found(installation):
    c = installation.container
    base = report(c).links
    write(c, 5)
    first, second = ids(c)[base + 1], ids(c)[base + 3]
    as_admin(c, f"DELETE FROM access_log WHERE id = {first}")
    assert any("deleted from the access log" in p and f"entry {first}" in p for p in problems(report(c)))
    # Cover the tracks: remove the link too. The gap and the broken hash link still show.
    as_admin(
        c, f"DELETE FROM access_log WHERE id = {second}", f"DELETE FROM audit_chain WHERE seq = {base + 4}"
    )
    found = problems(report(c))
    assert any(f"links {base + 4}–{base + 4} are missing" in p for p in found), found
    assert any(f"seq {base + 5}" in p and "does not follow" in p for p in found), found


def test_reordered_entries_are_found(installation):
    c = installation.container
    base = report(c).links
    write(c, 3)
    a, b = ids(c)[base], ids(c)[base + 1]
    # Swap which entry each link points at: the same entries, told in another order.
    as_admin(
        c,
        f"UPDATE audit_chain SET entry_id = -1 WHERE entry_id = {a}",
        f"UPDATE audit_chain SET entry_id = {a} WHERE entry_id = {b}",
        f"UPDATE audit_chain SET entry_id = {b} WHERE entry_id = -1",
    )
    found = problems(report(c))
    assert any(p.startswith(f"seq {base + 1} ") and "edited" in p for p in found), found
    assert any(p.startswith(f"seq {base + 2} ") and "edited" in p for p in found), found


def test_an_entry_inserted_behind_the_logs_back_is_found(installation):
    c = installation.container
    write(c, 1)
    with c.engine.begin() as conn:  # a plain INSERT: allowed by the triggers, but never linked
        conn.execute(
            text(
                "INSERT INTO access_log (at, actor_kind, actor_id, action, detail) "
                "VALUES (:at, 'staff', 'x', 'evidence.read', '{}')"
            ),
            {"at": utcnow()},
        )
    found = problems(report(c))
    assert len(found) == 1
    assert "not in the chain" in found[0]


def rewrite_chain_from(c, seq: int) -> None:
    """The inside job: edit an entry and recompute every later link and the head, consistently."""
    with c.uow() as db:
        rows = list(chain._links(db))
    statements, prev = [], rows[seq - 2][0].hash if seq > 1 else chain.GENESIS
    for link, entry in rows[seq - 1 :]:
        if link.seq == seq:
            entry.actor_id = "forged"
            statements.append(f"UPDATE access_log SET actor_id = 'forged' WHERE id = {entry.id}")
        new = chain.link_hash(prev, entry)
        statements.append(
            f"UPDATE audit_chain SET prev_hash = '{prev}', hash = '{new}' WHERE seq = {link.seq}"
        )
        prev = new
    statements.append(f"UPDATE audit_chain_head SET hash = '{prev}' WHERE id = 1")
    as_admin(c, *statements)


def test_signed_checkpoints_catch_a_chain_rewritten_consistently(installation):
    c = installation.container
    base = report(c).links
    write(c, 3)
    with c.uow() as db:
        first = chain.checkpoint(db, c.signer, c.settings.data_dir, utcnow())
        assert first is not None
        assert chain.checkpoint(db, c.signer, c.settings.data_dir, utcnow()) is None  # nothing new
    write(c, 2)
    trusted = (signing.public_b64(c.signer),)
    assert report(c, trusted).intact
    rewrite_chain_from(c, base + 2)
    found = problems(report(c, trusted))
    # The links agree with each other now; only the checkpoints remember the old chain.
    assert not any("edited" in p for p in found), found
    assert any(p.startswith(f"checkpoint at seq {base + 3}") and "rewritten" in p for p in found), found
    assert any(p.startswith(f"audit/checkpoints.jsonl checkpoint at seq {base + 3}") for p in found), found


def test_the_periodic_checkpoint_is_due_an_interval_after_the_last_one(installation):
    """Measured from the database: a restarted server neither signs at once nor waits again."""
    c, hour = installation.container, timedelta(hours=1)
    write(c, 2)
    now = utcnow()
    with c.uow() as db:
        first = db.scalar(select(func.min(AccessLogEntry.at)))
        assert not chain.checkpoint_due(db, now, hour)  # a fresh log: its oldest entry is seconds old
        assert chain.checkpoint_due(db, first + hour, hour)
        chain.checkpoint(db, c.signer, c.settings.data_dir, now + hour)
    with c.uow() as db:
        assert not chain.checkpoint_due(db, now + hour + timedelta(minutes=59), hour)
        assert chain.checkpoint_due(db, now + 2 * hour, hour)


def test_a_forged_or_foreign_checkpoint_is_found(installation):
    c = installation.container
    write(c, 2)
    with c.uow() as db:
        chain.checkpoint(db, c.signer, c.settings.data_dir, utcnow() + timedelta(seconds=1))
    path = c.settings.data_dir / chain.CHECKPOINT_FILE
    line = json.loads(path.read_text())
    line["hash"] = hashlib.sha256(b"other").hexdigest()
    path.write_text(json.dumps(line) + "\nnot json\n")
    found = problems(report(c, ("some-other-key",)))
    assert any("signature does not verify" in p for p in found), found
    assert any("does not use" in p for p in found), found
    assert any("damaged file" in p for p in found), found


def test_concurrent_writers_keep_one_gap_free_chain(installation):
    """Six writers at once (on PostgreSQL truly concurrent transactions; on SQLite its one writer)."""
    c = installation.container
    before = report(c).links
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(10):
                write(c, 3)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    r = report(c)
    assert r.intact, problems(r)
    assert r.links == before + 180


def test_cli_verify_says_intact_then_names_the_edit(installation, tmp_path):
    c = installation.container
    write(c, 2)
    env = {
        "INVIGIL_DATA_DIR": str(c.settings.data_dir),
        "INVIGIL_DATABASE_URL": str(c.settings.effective_database_url),
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        import os

        return subprocess.run(
            [sys.executable, "-m", "invigil.cli.main", "audit", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=120,
        )

    ok = cli("verify")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"intact: {report(c).entries} entries" in ok.stdout
    signed = cli("checkpoint")
    assert signed.returncode == 0
    assert f'"seq": {report(c).links}' in signed.stdout
    as_admin(c, f"UPDATE access_log SET action = 'nothing' WHERE id = {ids(c)[0]}")
    bad = cli("verify", "--json")
    assert bad.returncode == 1
    doc = json.loads(bad.stdout)
    assert doc["intact"] is False
    assert doc["findings"][0]["where"].startswith("seq 1 ")  # the first entry of all was edited
