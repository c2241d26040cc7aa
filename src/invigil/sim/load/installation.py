"""The installation under test: a throw-away one (SQLite or a fresh PostgreSQL database, and
`invigil serve` as a subprocess), or an existing server on loopback."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from invigil.kit import totp
from invigil.kit.clock import utcnow
from invigil.sim.load.options import COORDINATOR, INSTITUTION, LOAD_POLICY, LoadOptions, Target

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _database(tmp: Path, configured: str) -> Iterator[tuple[str, str]]:
    """-> (database URL, backend name). PostgreSQL gets a fresh database, dropped at the end."""
    if not configured.startswith("postgresql"):
        yield f"sqlite:///{tmp / 'invigil.db'}", "sqlite"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(configured)
    name = f"invigil_load_{secrets.token_hex(5)}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False), "postgresql"
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _install(data_dir: Path, database_url: str, opts: LoadOptions) -> tuple[str, list[str], str, str]:
    """Institution, coordinator (two-factor login set up), an exam with screenshots and N candidates.
    -> (exam id, codes, password, TOTP secret)."""
    from invigil.accounts import service as accounts
    from invigil.accounts import twofactor
    from invigil.accounts.models import Role
    from invigil.config import Settings
    from invigil.container import Container
    from invigil.exams import service as exams
    from invigil.institutions.models import Institution
    from invigil.setup import initialize

    c = Container.from_settings(Settings(data_dir=data_dir, database_url=database_url))
    try:
        init = initialize(
            c,
            slug=INSTITUTION,
            name="Load Test University",
            region="local",
            passphrase=secrets.token_urlsafe(18),
            recovery_file=data_dir / "recovery-key.json",
        )
        password = accounts.generate_password()
        now = utcnow()
        with c.uow() as db:
            institution = db.get(Institution, init.institution_id)
            assert institution is not None
            coordinator = accounts.create_staff(
                db, institution, COORDINATOR, "Load coordinator", Role.COORDINATOR, password
            )
            secret, _ = twofactor.enrol_on_behalf(db, coordinator, now)
            exam = exams.create_exam(
                db,
                institution,
                title="Load test",
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(seconds=opts.ramp_seconds + opts.minutes * 60, minutes=30),
                timezone="UTC",
                policy=LOAD_POLICY,
                created_by=coordinator,
            )
            people = [{"full_name": f"Load Candidate {i}"} for i in range(opts.candidates)]
            issued = exams.add_candidates(db, exam, people)
            return exam.id, [i.code for i in issued], password, secret
    finally:
        c.close()


def _wait_healthy(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"invigil loadtest: the server did not start:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"invigil loadtest: the server did not answer on port {port} within 60 seconds.")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@contextmanager
def _server(env: dict[str, str], port: int, workers: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    cmd = [sys.executable, "-m", "invigil.cli.main", "serve", "--port", str(port), "--workers", str(workers)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        _wait_healthy(proc, port, log)
        yield proc
    finally:
        _stop(proc)


@contextmanager
def local_target(opts: LoadOptions) -> Iterator[Target]:
    configured = (
        os.environ.get("INVIGIL_DATABASE_URL", "") if opts.database_url is None else opts.database_url
    )
    with (
        tempfile.TemporaryDirectory(prefix="invigil-load-", ignore_cleanup_errors=True) as tmp,
        _database(Path(tmp), configured) as (database_url, backend),
    ):
        data_dir = Path(tmp) / "data"
        if not opts.quiet:
            print(f"Setting up {backend}: an exam with {opts.candidates} candidates…", flush=True)
        exam_id, codes, password, secret = _install(data_dir, database_url, opts)
        port = _free_port()
        env = {
            "INVIGIL_DATA_DIR": str(data_dir),
            "INVIGIL_DATABASE_URL": database_url,
            "INVIGIL_HOST": "127.0.0.1",
            "INVIGIL_PORT": str(port),
            # The ingest node as deployed at scale: analysis runs on separate `invigil worker`
            # processes (INVIGIL_ANALYSIS_QUEUE=redis, ADR 0009), so it is not measured here.
            "INVIGIL_ANALYSIS_QUEUE": "off",
        }
        log = Path(tmp) / "server.log"
        with _server(env, port, opts.workers, log) as proc:
            code = totp.code_at(secret, time.time())  # used once, right away
            login = {"institution": INSTITUTION, "email": COORDINATOR, "password": password, "totp": code}
            yield Target(f"http://127.0.0.1:{port}", exam_id, codes, login, backend, proc, log)


def external_target(opts: LoadOptions) -> Target:
    host = urlsplit(opts.server).hostname or ""
    if host not in LOCAL_HOSTS:
        raise SystemExit("invigil loadtest: --server must be on 127.0.0.1 (load is only sent to loopback).")
    missing = [
        flag
        for flag, value in (
            ("--exam-id", opts.exam_id),
            ("--codes", opts.codes_file),
            ("--staff-password-file (or INVIGIL_LOADTEST_PASSWORD)", opts.staff_password),
        )
        if not value
    ]
    if missing:
        raise SystemExit(f"invigil loadtest: --server needs {', '.join(missing)}.")
    assert opts.codes_file is not None
    codes = [line.strip() for line in Path(opts.codes_file).read_text().splitlines() if line.strip()]
    if len(codes) < opts.candidates:
        raise SystemExit(
            f"invigil loadtest: {opts.codes_file} has {len(codes)} codes, not {opts.candidates}."
        )
    login = {"institution": opts.institution, "email": opts.staff_email, "password": opts.staff_password}
    return Target(opts.server.rstrip("/"), opts.exam_id, codes, login, "external")


def check(opts: LoadOptions) -> None:
    if opts.candidates < 1 or opts.minutes <= 0:
        raise SystemExit("invigil loadtest: --candidates must be at least 1 and --minutes more than 0.")
    if not 0 <= opts.ramp_seconds < opts.minutes * 60:
        raise SystemExit("invigil loadtest: --ramp must be shorter than the run (--minutes).")
    if opts.workers < 1:
        raise SystemExit("invigil loadtest: --workers must be at least 1.")
    if opts.connections < 0:
        raise SystemExit("invigil loadtest: --connections must be 0 (one per agent) or more.")


def server_log_tail(target: Target) -> str:
    if target.server_log is None or not target.server_log.exists():
        return ""
    return target.server_log.read_text(errors="replace")[-3000:]
