"""`invigil loadtest`: many light simulated agents drive protocol v1 over real HTTP.

A simulated candidate is a few coroutines around one ``AgentClient`` (no spool, no Pillow). It
activates with its real code, then sends a heartbeat every 10 s, a batch of a few events every 10 s
and a sealed, screenshot-sized item (~150 KB, sealed to the exam key for its own item id) every
30-60 s. Candidates arrive spread over ``ramp_seconds`` with random phases, so requests are not
synchronized. Every loop stops by itself when the timed phase ends; in-flight work gets
``grace_seconds`` more, then is cancelled.

At the end the coordinator's session board (``GET /api/v1/staff/exams/{id}/sessions``) is compared
with what the clients were told. Every item a client tried to upload must be stored exactly once:
``lost`` counts items never acknowledged (the client gave up or was cut off) plus acknowledged items
the server does not count; ``duplicates`` counts items the server holds beyond what was sent.

Without ``server`` the load test builds a throw-away installation: SQLite in a temporary folder, or
a fresh PostgreSQL database (dropped afterwards) when the database URL points at PostgreSQL. It
starts ``invigil serve`` on a free 127.0.0.1 port as a subprocess and stops it at the end. With
``server`` (127.0.0.1 or localhost only) it needs the exam id, a file of unused activation codes
(one per line) and coordinator credentials; codes work once, so such a run cannot be repeated.

Latency is measured on the client around every attempt, so it includes waiting for a pooled
connection and the load generator's own event-loop delays (reported as ``loop_lag_ms``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import x25519
from rich.console import Console
from rich.table import Table

from invigil.agent.client import AgentClient, ProtocolError, TransientError
from invigil.kit import envelope
from invigil.kit.clock import utcnow
from invigil.protocol import v1

T = TypeVar("T")

ENDPOINTS = ("activate", "heartbeat", "events", "evidence")
EVENT_TYPES = ("window.focus_lost", "window.focus_gained", "process.started", "input.idle", "screen.changed")
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
INSTITUTION = "load"
COORDINATOR = "coordinator@load.example"
AGENT_INFO = {"version": "loadtest", "platform": "simulated"}
LOAD_POLICY: dict[str, Any] = {
    "screenshots": {"enabled": True, "interval": {"min_seconds": 30, "max_seconds": 60}},
    "tail_period_seconds": 0,
}


@dataclass
class LoadOptions:
    candidates: int = 1000
    minutes: float = 2.0
    server: str = ""
    json_out: str | Path | None = None
    ramp_seconds: float = 10.0
    workers: int = 1
    # The realistic mix; tests shorten the intervals so that a short run exercises every endpoint.
    heartbeat_seconds: float = 10.0
    events_seconds: float = 10.0
    events_per_batch: tuple[int, int] = (1, 5)
    screenshot_seconds: tuple[float, float] = (30.0, 60.0)
    screenshot_bytes: int = 150 * 1024
    # Client behaviour.
    connections: int = 256  # one shared pool, as a reverse proxy in front of the node would have
    timeout_seconds: float = 30.0
    max_retries: int = 5
    grace_seconds: float = 60.0
    seed: int | None = None
    quiet: bool = False
    # Own installation: None reads INVIGIL_DATABASE_URL; "" is SQLite; a PostgreSQL URL names the
    # server on which a fresh database is created (and dropped) for the run.
    database_url: str | None = None
    # --server mode.
    exam_id: str = ""
    codes_file: str | Path | None = None
    institution: str = INSTITUTION
    staff_email: str = COORDINATOR
    staff_password: str = ""


@dataclass
class Target:
    """Where the load goes and how to check the result afterwards."""

    url: str
    exam_id: str
    codes: list[str]
    login: dict[str, str]
    backend: str
    server: subprocess.Popen[bytes] | None = None
    server_log: Path | None = None


# --------------------------------------------------------------------------- statistics


@dataclass
class EndpointStats:
    latencies: list[float] = field(default_factory=list)  # seconds, one per attempt
    ok: int = 0
    failed: int = 0  # attempts that failed, transient or not
    retries: int = 0
    gave_up: int = 0  # calls that never succeeded


@dataclass
class Stats:
    endpoints: dict[str, EndpointStats] = field(
        default_factory=lambda: {e: EndpointStats() for e in ENDPOINTS}
    )
    errors: Counter[str] = field(default_factory=Counter)

    def attempt(self, endpoint: str, seconds: float, error: str | None = None) -> None:
        s = self.endpoints[endpoint]
        s.latencies.append(seconds)
        if error is None:
            s.ok += 1
        else:
            s.failed += 1
            self.errors[f"{endpoint}: {error}"] += 1

    @property
    def requests(self) -> int:
        return sum(len(s.latencies) for s in self.endpoints.values())


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of unsorted values (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def _error_kind(exc: Exception) -> str:
    if isinstance(exc, ProtocolError):
        return f"{exc.status} {exc.body.get('error', '')}".strip()
    text = str(exc)
    return "transient " + (text.split(":", 1)[0] if ":" in text else text)


# --------------------------------------------------------------------------- the simulated agents


class Run:
    """Shared state of one load run: options, timing, the connection pool, statistics."""

    def __init__(self, opts: LoadOptions, url: str, deadline: float) -> None:
        self.opts, self.url, self.deadline = opts, url, deadline
        self.stop_retrying = deadline + opts.grace_seconds
        self.rng = random.Random(opts.seed)
        self.stats = Stats()
        self.payload = random.Random(opts.seed).randbytes(opts.screenshot_bytes)
        limits = httpx.Limits(
            max_connections=opts.connections, max_keepalive_connections=opts.connections, keepalive_expiry=4
        )
        self.transport = httpx.AsyncHTTPTransport(limits=limits)

    def client(self) -> AgentClient:
        return AgentClient(self.url, transport=self.transport, timeout=self.opts.timeout_seconds)

    async def call(self, endpoint: str, request: Callable[[], Awaitable[T]]) -> T | None:
        """One protocol call with retries on transient errors; None if it never succeeded."""
        loop = asyncio.get_running_loop()
        for attempt in range(self.opts.max_retries + 1):
            started = time.perf_counter()
            try:
                result = await request()
            except (TransientError, ProtocolError) as exc:
                self.stats.attempt(endpoint, time.perf_counter() - started, _error_kind(exc))
                if isinstance(exc, ProtocolError) or attempt == self.opts.max_retries:
                    break
                if loop.time() >= self.stop_retrying:
                    break
                self.stats.endpoints[endpoint].retries += 1
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * self.rng.uniform(0.5, 1.5))
                continue
            self.stats.attempt(endpoint, time.perf_counter() - started)
            return result
        self.stats.endpoints[endpoint].gave_up += 1
        return None


class SimAgent:
    """One candidate: activate, then heartbeats, event batches and sealed screenshots until the end."""

    def __init__(self, run: Run, code: str) -> None:
        self.run, self.code = run, code
        self.tag = secrets.token_hex(4)
        self.counter = 0
        self.session_id: str | None = None
        self.attempted = 0
        self.acknowledged = 0
        self.seq = 0

    def _next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.tag}-{self.counter:06d}"

    async def main(self, arrive_at: float) -> None:
        await _sleep_until(arrive_at)
        client = self.run.client()  # shares the run's transport: never aclose() it here
        secret = secrets.token_urlsafe(32)
        activation = await self.run.call("activate", lambda: client.activate(self.code, secret, AGENT_INFO))
        if activation is None:
            return
        client.token, self.session_id = secret, activation.session_id
        key = envelope.public_key_from_b64(activation.exam_public_key)
        opts, rng = self.run.opts, self.run.rng
        await asyncio.gather(
            self._every(lambda: opts.heartbeat_seconds, lambda: self._heartbeat(client)),
            self._every(lambda: opts.events_seconds, lambda: self._events(client)),
            self._every(
                lambda: rng.uniform(*opts.screenshot_seconds),
                lambda: self._screenshot(client, activation.exam.id, key),
            ),
        )

    async def _every(self, interval: Callable[[], float], action: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + self.run.rng.uniform(0, interval())  # a random phase
        while due < self.run.deadline:
            await _sleep_until(due)
            await action()
            due = max(due + interval(), loop.time())

    async def _heartbeat(self, client: AgentClient) -> None:
        self.seq += 1
        hb = v1.Heartbeat(seq=self.seq, sent_at=utcnow())
        await self.run.call("heartbeat", lambda: client.heartbeat(hb))

    async def _events(self, client: AgentClient) -> None:
        rng = self.run.rng
        now = utcnow()
        batch = v1.EventBatch(
            events=[
                v1.AgentEvent(
                    id=self._next_id("ev"),
                    type=rng.choice(EVENT_TYPES),
                    at=now,
                    severity="info",
                    data={"k": k},
                )
                for k in range(rng.randint(*self.run.opts.events_per_batch))
            ]
        )
        await self.run.call("events", lambda: client.events(batch))

    async def _screenshot(self, client: AgentClient, exam_id: str, key: x25519.X25519PublicKey) -> None:
        assert self.session_id is not None
        item_id = self._next_id("shot")
        ctx = envelope.Context(exam_id, self.session_id, item_id, "screenshot")
        sealed = envelope.seal_bytes(self.run.payload, ctx, [key])
        sha, captured = hashlib.sha256(sealed).hexdigest(), utcnow()
        self.attempted += 1
        status = await self.run.call(
            "evidence",
            lambda: client.put_evidence(item_id, "screenshot", sha, len(sealed), captured, sealed),
        )
        if status is not None and status.status == "stored":
            self.acknowledged += 1
        elif status is not None:
            self.run.stats.errors[f"evidence: answered {status.status}"] += 1


async def _sleep_until(when: float) -> None:
    delay = when - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


# --------------------------------------------------------------------------- driving a run


@dataclass
class Outcome:
    agents: list[SimAgent]
    stats: Stats
    elapsed: float
    client_cpu: float
    server_cpu: float | None
    loop_lag: list[float]
    board: dict[str, int]


async def _monitor(run: Run, agents: list[SimAgent], lags: list[float], quiet: bool) -> None:
    """Event-loop lag every 0.1 s (is the load generator keeping up?) and a progress line every 10 s."""
    loop = asyncio.get_running_loop()
    started = last_print = loop.time()
    while True:
        before = loop.time()
        await asyncio.sleep(0.1)
        now = loop.time()
        lags.append(now - before - 0.1)
        if not quiet and now - last_print >= 10:
            last_print = now
            active = sum(1 for a in agents if a.session_id)
            stored = sum(a.acknowledged for a in agents)
            errors = sum(run.stats.errors.values())
            print(
                f"[{now - started:5.0f}s] active {active}/{len(agents)}  requests {run.stats.requests}"
                f"  errors {errors}  items stored {stored}",
                flush=True,
            )


async def _login(http: httpx.AsyncClient, login: dict[str, str]) -> dict[str, str]:
    r = await http.post("/api/v1/staff/login", json=login)
    if r.status_code != 200:
        raise SystemExit(f"invigil loadtest: staff login failed ({r.status_code}): {r.text[:200]}")
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def _board(http: httpx.AsyncClient, headers: dict[str, str], exam_id: str) -> dict[str, int]:
    r = await http.get(f"/api/v1/staff/exams/{exam_id}/sessions", headers=headers)
    if r.status_code != 200:
        raise SystemExit(
            f"invigil loadtest: reading the session board failed ({r.status_code}): {r.text[:200]}"
        )
    return {row["session_id"]: int(row["items"]) for row in r.json()["sessions"]}


async def _drive(opts: LoadOptions, target: Target) -> Outcome:
    async with httpx.AsyncClient(base_url=target.url, timeout=300) as staff_http:
        headers = await _login(staff_http, target.login)  # once, before the load: fail early
        loop = asyncio.get_running_loop()
        start = loop.time()
        run = Run(opts, target.url, start + opts.minutes * 60)
        agents = [SimAgent(run, code) for code in target.codes[: opts.candidates]]
        lags: list[float] = []
        monitor = asyncio.create_task(_monitor(run, agents, lags, opts.quiet))
        cpu0, server0 = time.process_time(), _server_cpu(target.server)
        arrivals = sorted(run.rng.uniform(0, opts.ramp_seconds) for _ in agents)
        tasks = [asyncio.create_task(a.main(start + at)) for a, at in zip(agents, arrivals, strict=True)]
        hard_stop = run.stop_retrying + opts.timeout_seconds + 5 - loop.time()
        _, pending = await asyncio.wait(tasks, timeout=hard_stop)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        elapsed = loop.time() - start
        client_cpu, server1 = time.process_time() - cpu0, _server_cpu(target.server)
        monitor.cancel()
        with suppress(asyncio.CancelledError):
            await monitor
        await run.transport.aclose()
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                run.stats.errors[f"simulator: {task.exception()!r}"[:200]] += 1
        board = await _board(staff_http, headers, target.exam_id)
    server_cpu = None if server0 is None or server1 is None else server1 - server0
    return Outcome(agents, run.stats, elapsed, client_cpu, server_cpu, lags, board)


# --------------------------------------------------------------------------- the report


def _items(agents: list[SimAgent], board: dict[str, int]) -> dict[str, int]:
    attempted = sum(a.attempted for a in agents)
    acknowledged = sum(a.acknowledged for a in agents)
    missing = duplicates = stored_unacknowledged = 0
    for a in agents:
        if a.session_id is None:
            continue
        on_server = board.get(a.session_id, 0)
        missing += max(0, a.acknowledged - on_server)
        duplicates += max(0, on_server - a.attempted)
        stored_unacknowledged += max(0, min(on_server, a.attempted) - a.acknowledged)
    return {
        "attempted": attempted,
        "acknowledged": acknowledged,
        "unacknowledged": attempted - acknowledged,
        "stored_on_server": sum(board.get(a.session_id, 0) for a in agents if a.session_id),
        "acknowledged_but_missing": missing,
        "stored_but_unacknowledged": stored_unacknowledged,
        "duplicates": duplicates,
    }


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _endpoint_report(s: EndpointStats, elapsed: float) -> dict[str, Any]:
    return {
        "requests": len(s.latencies),
        "ok": s.ok,
        "failed": s.failed,
        "retries": s.retries,
        "gave_up": s.gave_up,
        "rps": round(len(s.latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": _ms(percentile(s.latencies, 50)),
        "p95_ms": _ms(percentile(s.latencies, 95)),
        "p99_ms": _ms(percentile(s.latencies, 99)),
        "max_ms": _ms(max(s.latencies, default=0.0)),
    }


def build_report(opts: LoadOptions, target: Target, out: Outcome) -> dict[str, Any]:
    items = _items(out.agents, out.board)
    everything = [x for s in out.stats.endpoints.values() for x in s.latencies]
    total = {
        "requests": len(everything),
        "rps": round(len(everything) / out.elapsed, 1) if out.elapsed else 0.0,
        "p50_ms": _ms(percentile(everything, 50)),
        "p95_ms": _ms(percentile(everything, 95)),
        "p99_ms": _ms(percentile(everything, 99)),
        "max_ms": _ms(max(everything, default=0.0)),
        "failed": sum(s.failed for s in out.stats.endpoints.values()),
        "retries": sum(s.retries for s in out.stats.endpoints.values()),
    }
    return {
        "backend": target.backend,
        "workers": opts.workers if not opts.server else None,
        "candidates": len(out.agents),
        "activated": sum(1 for a in out.agents if a.session_id),
        "minutes": opts.minutes,
        "ramp_seconds": opts.ramp_seconds,
        "elapsed_seconds": round(out.elapsed, 1),
        "endpoints": {e: _endpoint_report(s, out.elapsed) for e, s in out.stats.endpoints.items()},
        "total": total,
        "errors": dict(out.stats.errors.most_common()),
        "items": items,
        "lost": items["unacknowledged"] + items["acknowledged_but_missing"],
        "duplicates": items["duplicates"],
        "client_cpu_percent": round(100 * out.client_cpu / out.elapsed, 1) if out.elapsed else None,
        "server_cpu_percent": (
            round(100 * out.server_cpu / out.elapsed, 1)
            if out.server_cpu is not None and out.elapsed
            else None
        ),
        "loop_lag_ms": {"p99": _ms(percentile(out.loop_lag, 99)), "max": _ms(max(out.loop_lag, default=0.0))},
        "cpus": os.cpu_count(),
    }


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 132)
    title = (
        f"invigil loadtest — {report['backend']}, {report['workers'] or 'external'} worker(s), "
        f"{report['candidates']} candidates, {report['minutes']:g} min ({report['elapsed_seconds']} s)"
    )
    t = Table(title=title, header_style="bold")
    for col in ("endpoint", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "failed", "retries"):
        t.add_column(col, justify="left" if col == "endpoint" else "right")
    rows = [*report["endpoints"].items(), ("total", report["total"])]
    for name, e in rows:
        t.add_row(
            name,
            str(e["requests"]),
            f"{e['rps']:.1f}",
            f"{e['p50_ms']:.1f}",
            f"{e['p95_ms']:.1f}",
            f"{e['p99_ms']:.1f}",
            f"{e['max_ms']:.1f}",
            str(e["failed"]),
            str(e["retries"]),
        )
    console.print(t)
    items = report["items"]
    console.print(
        f"Items: {items['attempted']} sent, {items['acknowledged']} acknowledged, "
        f"{items['stored_on_server']} on the server; [bold]lost {report['lost']}[/bold], "
        f"duplicates {report['duplicates']}."
    )
    for kind, count in report["errors"].items():
        console.print(f"  error {kind}: {count}")
    console.print(
        f"CPU (100% = one core; this machine has {report['cpus']}): load generator "
        f"{report['client_cpu_percent']}%, server {report['server_cpu_percent']}%; "
        f"generator loop lag p99 {report['loop_lag_ms']['p99']} ms."
    )


# --------------------------------------------------------------------------- the installation


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


def _install(data_dir: Path, database_url: str, opts: LoadOptions) -> tuple[str, list[str], str]:
    """Institution, coordinator, an exam with screenshots and N candidates. -> (exam id, codes, password)."""
    from invigil.accounts import service as accounts
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
            return exam.id, [i.code for i in issued], password
    finally:
        c.close()


def _server_cpu(proc: subprocess.Popen[bytes] | None) -> float | None:
    """CPU seconds of the server process and its descendants (Linux /proc); None elsewhere."""
    if proc is None or not Path("/proc/self/stat").exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    family, frontier = {proc.pid}, [proc.pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in family]
        family.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in family)


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
def _local_target(opts: LoadOptions) -> Iterator[Target]:
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
        exam_id, codes, password = _install(data_dir, database_url, opts)
        port = _free_port()
        env = {
            "INVIGIL_DATA_DIR": str(data_dir),
            "INVIGIL_DATABASE_URL": database_url,
            "INVIGIL_HOST": "127.0.0.1",
            "INVIGIL_PORT": str(port),
        }
        log = Path(tmp) / "server.log"
        with _server(env, port, opts.workers, log) as proc:
            login = {"institution": INSTITUTION, "email": COORDINATOR, "password": password}
            yield Target(f"http://127.0.0.1:{port}", exam_id, codes, login, backend, proc, log)


def _external_target(opts: LoadOptions) -> Target:
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


def _check(opts: LoadOptions) -> None:
    if opts.candidates < 1 or opts.minutes <= 0:
        raise SystemExit("invigil loadtest: --candidates must be at least 1 and --minutes more than 0.")
    if not 0 <= opts.ramp_seconds < opts.minutes * 60:
        raise SystemExit("invigil loadtest: --ramp must be shorter than the run (--minutes).")
    if opts.workers < 1 or opts.connections < 1:
        raise SystemExit("invigil loadtest: --workers and --connections must be at least 1.")


def _server_log_tail(target: Target) -> str:
    if target.server_log is None or not target.server_log.exists():
        return ""
    return target.server_log.read_text(errors="replace")[-3000:]


def run_loadtest(opts: LoadOptions) -> dict[str, Any]:
    """Run the load, print the report, write it as JSON if asked, and return it."""
    _check(opts)
    if opts.server:
        target = _external_target(opts)
        outcome = asyncio.run(_drive(opts, target))
        report = build_report(opts, target, outcome)
    else:
        with _local_target(opts) as target:
            outcome = asyncio.run(_drive(opts, target))
            report = build_report(opts, target, outcome)
            report["server_log_tail"] = _server_log_tail(target)
    if not opts.quiet:
        print_report(report)
    if opts.json_out:
        Path(opts.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return report
