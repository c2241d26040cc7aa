"""Nothing is lost: a killed agent, a killed server, minutes without network. Real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from invigil.agent.runtime import AgentRuntime
from invigil.evidence.models import EvidenceItem
from invigil.sessions.models import ExamSession, OfflinePeriod
from invigil.sim.classroom import reads_and_accepts
from tests.factories import free_port, make_exam
from tests.netproxy import CuttableProxy

pytestmark = pytest.mark.slow


def agent_cmd(url: str, code: str, spool: Path, handin_after: float, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "invigil.cli.main",
        "agent",
        "run",
        "--server",
        url,
        "--code",
        code,
        "--spool",
        str(spool),
        "--handin-after",
        str(handin_after),
        "--accept-notice",
        *extra,
    ]


def spool_rows(spool: Path) -> dict[str, str]:
    """Read the agent's spool from outside (the agent may still be creating it)."""
    if not (spool / "spool.db").exists():
        return {}
    db = sqlite3.connect(spool / "spool.db", timeout=10)
    try:
        return dict(db.execute("SELECT item_id, status FROM items").fetchall())
    except sqlite3.OperationalError:
        return {}
    finally:
        db.close()


def server_items(installation, session_id: str) -> list[str]:
    with installation.container.uow() as db:
        return list(
            db.scalars(
                select(EvidenceItem.client_id).where(
                    EvidenceItem.session_id == session_id, EvidenceItem.status == "stored"
                )
            )
        )


def assert_exactly_once(installation, session_id: str, spool: Path) -> None:
    rows = spool_rows(spool)
    assert rows, "the agent captured nothing"
    assert set(rows.values()) == {"acked"}, rows
    on_server = server_items(installation, session_id)
    assert len(on_server) == len(set(on_server))
    assert set(on_server) == set(rows)
    with installation.container.uow() as db:
        session = db.get(ExamSession, session_id)
        assert session.items == len(rows)
        assert session.state == "closed"
    assert list(spool.joinpath("items").iterdir()) == []  # acknowledged items leave the spool


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_agent_killed_with_sigkill_resumes_without_loss(server, installation, tmp_path):
    exam = make_exam(installation, n=1)
    spool = tmp_path / "spool"
    handin = tmp_path / "answers.txt"
    handin.write_text("my answers\n" * 1000)
    first = subprocess.Popen(agent_cmd(server.url, exam.codes[0], spool, 600, "--handin-file", str(handin)))
    wait_for(lambda: len(spool_rows(spool)) >= 4, 40, "captures before the kill")
    first.send_signal(signal.SIGKILL)
    first.wait()
    before = spool_rows(spool)
    # The restarted agent reuses its activation (the code is single-use) and carries on.
    second = subprocess.run(
        agent_cmd(server.url, exam.codes[0], spool, 6, "--handin-file", str(handin)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert second.returncode == 0, second.stdout + second.stderr
    assert "agent closed" in second.stdout
    assert set(before) <= set(spool_rows(spool))
    assert_exactly_once(installation, exam.session_ids[0], spool)


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "invigil.cli.main", "serve", "--port", str(port)], env=env)
    wait_for(lambda: _up(port), 30, "server start")
    return proc


def _up(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200
    except httpx.TransportError:
        return False


def test_server_killed_mid_upload_and_restarted(installation, tmp_path):
    settings = installation.container.settings
    exam = make_exam(
        installation,
        n=1,
        policy={
            "screenshots": {"enabled": True, "interval": {"min_seconds": 5, "max_seconds": 5}},
            "tail_period_seconds": 2,
        },
    )
    env = {
        **os.environ,
        "INVIGIL_DATA_DIR": str(settings.data_dir),
        "INVIGIL_DATABASE_URL": settings.effective_database_url,
        "INVIGIL_HEARTBEAT_INTERVAL_SECONDS": "1",
        "INVIGIL_OFFLINE_AFTER_SECONDS": "3",
    }
    port = free_port()
    server = _serve(env, port)
    big = os.urandom(20 * 1024 * 1024)  # 20 MB hand-in: 20 chunks of 1 MB
    spool = tmp_path / "spool"
    runtime = AgentRuntime(
        f"http://127.0.0.1:{port}",
        spool,
        exam.codes[0],
        lambda p: [],
        lambda: [big],
        handin_after=1,
        read_notice=reads_and_accepts,
    )

    def partial_on_server() -> bool:
        with installation.container.uow() as db:
            return (
                db.scalar(
                    select(EvidenceItem).where(EvidenceItem.status == "partial", EvidenceItem.received > 0)
                )
                is not None
            )

    async def scenario() -> None:
        task = asyncio.create_task(runtime.run())
        await asyncio.to_thread(wait_for, partial_on_server, 60, "a partial upload")
        server.send_signal(signal.SIGKILL)  # the server dies in the middle of the upload
        server.wait()
        await asyncio.sleep(3)
        restarted = await asyncio.to_thread(_serve, env, port)
        try:
            status = await asyncio.wait_for(task, 120)
        finally:
            restarted.send_signal(signal.SIGINT)
            restarted.wait(15)
        assert status.phase == "closed", status
        assert status.receipt["body"]["files"][0]["size"] > len(big)

    asyncio.run(scenario())
    assert_exactly_once(installation, exam.session_ids[0], spool)
    assert list(installation.container.store.keys("partial/")) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the outage is about the network
def test_network_gone_for_a_minute(server, installation, tmp_path):
    exam = make_exam(installation, n=1)
    proxy = CuttableProxy(server.port)
    spool = tmp_path / "spool"
    outage = float(os.environ.get("INVIGIL_TEST_OUTAGE_SECONDS", "60"))  # set it for a longer one
    agent = subprocess.Popen(
        agent_cmd(proxy.url, exam.codes[0], spool, outage + 20), stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: bool(server_items(installation, exam.session_ids[0])), 40, "first uploads")
        proxy.cut()
        time.sleep(outage)
        pending_during = sum(1 for s in spool_rows(spool).values() if s == "pending")
        assert pending_during >= outage / 6 * 0.5  # captures went on while offline, into the spool
        proxy.restore()
        out, _ = agent.communicate(timeout=180)
        assert agent.returncode == 0, out
    finally:
        if agent.poll() is None:
            agent.kill()
        proxy.close()
    assert_exactly_once(installation, exam.session_ids[0], spool)
    with installation.container.uow() as db:
        periods = db.scalars(
            select(OfflinePeriod).where(OfflinePeriod.session_id == exam.session_ids[0])
        ).all()
        longest = max((p.ended_at - p.started_at).total_seconds() for p in periods)
    assert longest >= outage - 5
