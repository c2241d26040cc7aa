"""Analysis jobs end to end: uploads and events through the real server, analysed by
- the embedded in-process queue (the default), and
- real `invigil worker` processes consuming a real Redis broker (Dramatiq), two at once.

Without Redis on 127.0.0.1:6379 the broker test is skipped loudly; in CI (CI=true) it fails instead.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from invigil.container import Container
from tests.factories import ThreadServer, login, make_exam
from tests.integration.agentkit import activate
from tests.integration.flagkit import (
    ESSAY,
    FORBIDDEN_POLICY,
    analysis_account,
    assign_worker,
    behaviours,
    events,
    processes,
    wait_for,
)
from tests.seaweed import in_ci

REDIS = ("127.0.0.1", 6379)


def redis_reachable() -> str | None:
    try:
        with socket.create_connection(REDIS, timeout=2) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return None
            return "Redis did not answer PING"
    except OSError as exc:
        return f"Redis is not reachable at {REDIS[0]}:{REDIS[1]} ({exc})"


def drive_class(http: httpx.Client, exam) -> dict[str, str]:
    """Three candidates: one starts a forbidden program and leaves the window; two hand in the same essay."""
    cheat, copy_a, copy_b = (activate(http, code) for code in exam.codes)
    cheat.upload("process_snapshot", processes("discord"))
    copy_a.upload("process_snapshot", processes())
    r = http.post(
        "/api/v1/agent/events",
        json=events(("focus.lost", {}), ("storage.inserted", {"bus": "usb"})),
        headers=cheat.auth(),
    )
    assert r.status_code == 200, r.text
    for agent, text in ((copy_a, ESSAY), (copy_b, ESSAY.replace("induction", "strong induction"))):
        item = agent.upload("handin_file", text.encode())
        assert agent.handin([item]).status_code == 200
    return {"cheat": cheat.session_id, "copy_a": copy_a.session_id, "copy_b": copy_b.session_id}


def expect_flags(http: httpx.Client, url: str, sessions: dict[str, str]) -> None:
    h = login(url, "reviewer")
    wanted = {"process.forbidden", "storage.removable"}
    wait_for(lambda: wanted <= behaviours(http, h, sessions["cheat"], "worker"), 60, "the cheat's flags")
    for who in ("copy_a", "copy_b"):
        wait_for(
            lambda who=who: behaviours(http, h, sessions[who]) == {"handin.near_duplicate"},
            60,
            f"{who}'s near-duplicate flag",
        )
    assert "process.forbidden" not in behaviours(http, h, sessions["copy_a"])


def test_in_process_queue_flags_the_class(installation, tmp_path):
    """The embedded default: the server analyses in a thread of its own."""
    account = analysis_account(installation, tmp_path)
    exam = make_exam(installation, n=3, policy=FORBIDDEN_POLICY)
    assign_worker(installation.container, exam.exam_id, account.staff_id)
    settings = installation.container.settings.model_copy(
        update={"analysis_queue": "in_process", **account.settings_update()}
    )
    c = Container.from_settings(settings)
    srv = ThreadServer(c).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=20) as http:
            expect_flags(http, srv.url, drive_class(http, exam))
    finally:
        srv.stop()
        c.close()


@pytest.fixture
def broker_namespace() -> str:
    why = redis_reachable()
    if why:
        if in_ci():
            pytest.fail(f"the Redis broker is required in CI: {why}", pytrace=False)
        pytest.skip(f"BROKER TESTS NOT RUN: {why}")
    return f"invigil-test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def workers(installation, tmp_path, broker_namespace) -> Iterator[tuple[list[subprocess.Popen[bytes]], dict]]:
    """Two `invigil worker` processes on the test's own Redis namespace; stopped with SIGTERM."""
    account = analysis_account(installation, tmp_path)
    s = installation.container.settings
    env = {
        **os.environ,
        "INVIGIL_DATA_DIR": str(s.data_dir),
        "INVIGIL_DATABASE_URL": s.effective_database_url,
        "INVIGIL_KDF_ITERATIONS": str(s.kdf_iterations),
        "INVIGIL_ANALYSIS_QUEUE": "redis",
        "INVIGIL_QUEUE_NAMESPACE": broker_namespace,
        "INVIGIL_ANALYSIS_STAFF_ID": account.staff_id,
        "INVIGIL_ANALYSIS_PASSPHRASE_FILE": str(account.passphrase_file),
        "INVIGIL_SWEEP_INTERVAL_SECONDS": "1",
    }
    procs, logs = [], []
    for i in range(2):
        log = Path(tmp_path / f"worker-{i}.log").open("wb")  # noqa: SIM115 (closed below)
        logs.append(log)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "invigil.cli.main", "worker", "--threads", "2"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        yield procs, {"account": account, "logs": [tmp_path / f"worker-{i}.log" for i in range(2)]}
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


def test_redis_queue_and_two_worker_processes_flag_the_class(installation, workers, broker_namespace):
    procs, info = workers
    exam = make_exam(installation, n=3, policy=FORBIDDEN_POLICY)
    assign_worker(installation.container, exam.exam_id, info["account"].staff_id)
    settings = installation.container.settings.model_copy(
        update={"analysis_queue": "redis", "queue_namespace": broker_namespace}
    )
    c = Container.from_settings(settings)  # the server only sends jobs: it has no analysis key
    srv = ThreadServer(c).start()
    try:
        with httpx.Client(base_url=srv.url, timeout=20) as http:
            wait_for(
                lambda: all("analysis jobs from" in p.read_text() for p in info["logs"]),
                30,
                "workers to start",
            )
            expect_flags(http, srv.url, drive_class(http, exam))
    finally:
        srv.stop()
        c.close()
    assert all(p.poll() is None for p in procs), "a worker process died"
    for p in procs:
        p.send_signal(signal.SIGTERM)
    assert [p.wait(timeout=30) for p in procs] == [0, 0]
    assert all("Traceback" not in p.read_text() for p in info["logs"]), info["logs"][0].read_text()
