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

Every simulated agent has its own HTTP client and connections, as real agents do. Latency is
measured on the client around every attempt, so it includes connecting and the load generator's
own delays: its event-loop lag and garbage-collector pauses are reported (``loop_lag_ms``,
``gc_pauses``); if they grow, the generator is the limit. Automatic full collections are off
during the timed phase, as one takes hundreds of milliseconds with thousands of live clients.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import math
import os
import random
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
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
    """Shared state of one load run: options, timing, the TLS context, statistics."""

    def __init__(self, opts: LoadOptions, url: str, deadline: float) -> None:
        self.opts, self.url, self.deadline = opts, url, deadline
        self.stop_retrying = deadline + opts.grace_seconds
        self.rng = random.Random(opts.seed)
        self.stats = Stats()
        self.payload = random.Random(opts.seed).randbytes(opts.screenshot_bytes)
        # Plain HTTP on loopback: one TLS context for all, instead of loading the CA bundle per client.
        self.tls = ssl.create_default_context()

    def client(self) -> AgentClient:
        """A client of its own, like a real agent's machine; idle connections close before the
        server's 5 s keep-alive runs out, so a reused connection is never one being closed."""
        limits = httpx.Limits(max_connections=4, keepalive_expiry=4)
        transport = httpx.AsyncHTTPTransport(verify=self.tls, limits=limits)
        return AgentClient(self.url, transport=transport, timeout=self.opts.timeout_seconds)

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
        client = self.run.client()
        try:
            await self._work(client)
        finally:
            await client.aclose()

    async def _work(self, client: AgentClient) -> None:
        secret = secrets.token_urlsafe(32)
        mine = x25519.X25519PrivateKey.generate().public_key()
        public = envelope.b64e(envelope.raw_public(mine))
        activation = await self.run.call(
            "activate", lambda: client.activate(self.code, secret, AGENT_INFO, public)
        )
        if activation is None:
            return
        client.token, self.session_id = secret, activation.session_id
        keys = [envelope.public_key_from_b64(activation.keys.keys["screen"].public_key), mine]
        opts, rng = self.run.opts, self.run.rng
        await asyncio.gather(
            self._every(lambda: opts.heartbeat_seconds, lambda: self._heartbeat(client)),
            self._every(lambda: opts.events_seconds, lambda: self._events(client)),
            self._every(
                lambda: rng.uniform(*opts.screenshot_seconds),
                lambda: self._screenshot(client, activation.exam.id, keys),
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

    async def _screenshot(
        self, client: AgentClient, exam_id: str, keys: list[x25519.X25519PublicKey]
    ) -> None:
        assert self.session_id is not None
        item_id = self._next_id("shot")
        ctx = envelope.Context(exam_id, self.session_id, item_id, "screenshot")
        sealed = envelope.seal_bytes(self.run.payload, ctx, keys)
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
    cpu_percent: dict[str, float | None]
    loop_lag: list[float]
    gc: dict[str, float]
    board: dict[str, int]


class GcPauses:
    """Garbage-collector pauses of the load generator while it runs (they stall every request)."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0
        self._thresholds: tuple[int, int, int] = gc.get_threshold()

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)

    def __enter__(self) -> GcPauses:
        # No automatic full collections while the load runs: with thousands of live clients one
        # takes hundreds of milliseconds and would show up as server latency. Young generations
        # are still collected; the rest waits until the run ends (it is bounded).
        self._thresholds = gc.get_threshold()
        gc.collect()
        gc.set_threshold(self._thresholds[0], self._thresholds[1], 1_000_000_000)
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)
        gc.set_threshold(*self._thresholds)

    def summary(self) -> dict[str, float]:
        return {
            "count": len(self.pauses),
            "total_ms": _ms(sum(self.pauses)),
            "max_ms": _ms(max(self.pauses, default=0.0)),
        }


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


@dataclass
class Phase:
    elapsed: float
    cpu_percent: dict[str, float | None]
    loop_lag: list[float]
    gc: dict[str, float]


async def _timed_phase(run: Run, agents: list[SimAgent], target: Target, start: float) -> Phase:
    """Every agent from its arrival to the deadline; stragglers are cancelled after the grace time."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    monitor = asyncio.create_task(_monitor(run, agents, lags, run.opts.quiet))
    cpu0 = _cpu_sample(target.server)
    arrivals = sorted(run.rng.uniform(0, run.opts.ramp_seconds) for _ in agents)
    with GcPauses() as pauses:
        tasks = [asyncio.create_task(a.main(start + at)) for a, at in zip(agents, arrivals, strict=True)]
        hard_stop = run.stop_retrying + run.opts.timeout_seconds + 5 - loop.time()
        _, pending = await asyncio.wait(tasks, timeout=hard_stop)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    elapsed = loop.time() - start
    cpu = _cpu_percent(cpu0, _cpu_sample(target.server), elapsed)
    monitor.cancel()
    with suppress(asyncio.CancelledError):
        await monitor
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            run.stats.errors[f"simulator: {task.exception()!r}"[:200]] += 1
    return Phase(elapsed, cpu, lags, pauses.summary())


async def _drive(opts: LoadOptions, target: Target) -> Outcome:
    async with httpx.AsyncClient(base_url=target.url, timeout=300) as staff_http:
        headers = await _login(staff_http, target.login)  # once, before the load: fail early
        start = asyncio.get_running_loop().time()
        run = Run(opts, target.url, start + opts.minutes * 60)
        agents = [SimAgent(run, code) for code in target.codes[: opts.candidates]]
        phase = await _timed_phase(run, agents, target, start)
        board = await _board(staff_http, headers, target.exam_id)
    return Outcome(agents, run.stats, phase.elapsed, phase.cpu_percent, phase.loop_lag, phase.gc, board)


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
        "cpu_percent": out.cpu_percent,
        "gc_pauses": out.gc,
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
    items, cpu = report["items"], report["cpu_percent"]
    console.print(
        f"Items: {items['attempted']} sent, {items['acknowledged']} acknowledged, "
        f"{items['stored_on_server']} on the server; [bold]lost {report['lost']}[/bold], "
        f"duplicates {report['duplicates']}."
    )
    for kind, count in report["errors"].items():
        console.print(f"  error {kind}: {count}")
    console.print(
        f"CPU (100% = one core; this machine has {report['cpus']}): server {cpu['server']}%, "
        f"PostgreSQL {cpu['database']}%, load generator {cpu['generator']}%, "
        f"everything else {cpu['other']}%; "
        f"generator loop lag p99 {report['loop_lag_ms']['p99']} ms, "
        f"GC pauses {report['gc_pauses']['total_ms']} ms (longest {report['gc_pauses']['max_ms']} ms)."
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


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far by this process, the server's processes, PostgreSQL (all of its
    processes on the machine) and the whole machine (busy time)."""

    generator: float
    server: float | None
    database: float | None
    machine: float | None


def _cpu_sample(proc: subprocess.Popen[bytes] | None) -> CpuSample:
    procs = _processes()
    if not procs:
        return CpuSample(time.process_time(), None, None, None)
    server = _tree_cpu(proc.pid, procs) if proc is not None else None
    database = sum(p.cpu for p in procs.values() if p.name == "postgres")
    return CpuSample(time.process_time(), server, database, _machine_busy())


def _cpu_percent(before: CpuSample, after: CpuSample, elapsed: float) -> dict[str, float | None]:
    """Shares of one core over the run; ``other`` is what the rest of the machine used meanwhile."""

    def delta(name: str) -> float | None:
        a, b = getattr(after, name), getattr(before, name)
        return None if a is None or b is None else float(a - b)

    def pct(seconds: float | None) -> float | None:
        return None if seconds is None or elapsed <= 0 else round(100 * seconds / elapsed, 1)

    parts = {name: delta(name) for name in ("server", "database", "generator")}
    machine = delta("machine")
    known = [v for v in parts.values() if v is not None]
    other = None if machine is None else max(0.0, machine - sum(known))
    return {**{k: pct(v) for k, v in parts.items()}, "other": pct(other)}


def _machine_busy() -> float | None:
    """Busy CPU seconds of all cores since boot (Linux /proc/stat), None elsewhere."""
    try:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


@dataclass(frozen=True)
class Proc:
    ppid: int
    name: str
    cpu: float  # own and reaped children's CPU seconds, so that exits do not lose time


def _processes() -> dict[int, Proc]:
    """Every process on the machine (Linux /proc); empty elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    out: dict[int, Proc] = {}
    proc_dir = Path("/proc")
    for entry in proc_dir.iterdir() if proc_dir.is_dir() else []:
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:
            continue
        if stat:
            name = stat[stat.find("(") + 1 : stat.rfind(")")]
            f = stat[stat.rfind(")") + 2 :].split()
            out[int(entry.name)] = Proc(int(f[1]), name, sum(int(x) for x in f[11:15]) / ticks)
    return out


def _tree_cpu(root: int, procs: dict[int, Proc]) -> float:
    family, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, p in procs.items() if p.ppid == parent and pid not in family]
        family.update(children)
        frontier.extend(children)
    return sum(procs[pid].cpu for pid in family if pid in procs)


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
    if opts.workers < 1:
        raise SystemExit("invigil loadtest: --workers must be at least 1.")


def _server_log_tail(target: Target) -> str:
    if target.server_log is None or not target.server_log.exists():
        return ""
    return target.server_log.read_text(errors="replace")[-3000:]


@contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """SIGTERM (and SIGINT where a background shell ignores it) ends the run through the normal
    clean-up: the server is stopped, the temporary folder and database are removed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_loadtest(opts: LoadOptions) -> dict[str, Any]:
    """Run the load, print the report, write it as JSON if asked, and return it."""
    _check(opts)
    with _terminate_cleanly():
        report = _run(opts)
    if not opts.quiet:
        print_report(report)
    if opts.json_out:
        Path(opts.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _run(opts: LoadOptions) -> dict[str, Any]:
    if opts.server:
        target = _external_target(opts)
        outcome = asyncio.run(_drive(opts, target))
        report = build_report(opts, target, outcome)
    else:
        with _local_target(opts) as target:
            outcome = asyncio.run(_drive(opts, target))
            report = build_report(opts, target, outcome)
            report["server_log_tail"] = _server_log_tail(target)
    return report
