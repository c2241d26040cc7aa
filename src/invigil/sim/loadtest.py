"""`invigil loadtest`: many light simulated agents drive protocol v1 over real HTTP.

A simulated candidate (sim/load/agents.py) activates with its real code, then sends a heartbeat
every 10 s, a batch of a few events every 10 s and a sealed, screenshot-sized item (~150 KB, sealed
to the exam key for its own item id) every 30-60 s. Candidates arrive spread over ``ramp_seconds``
with random phases, so requests are not synchronized. Every loop stops by itself when the timed
phase ends; in-flight work gets ``grace_seconds`` more, then is cancelled.

At the end the coordinator's session board (``GET /api/v1/staff/exams/{id}/sessions``) is compared
with what the clients were told. Every item a client tried to upload must be stored exactly once:
``lost`` counts items never acknowledged (the client gave up or was cut off) plus acknowledged items
the server does not count; ``duplicates`` counts items the server holds beyond what was sent.

Without ``server`` the load test builds a throw-away installation (sim/load/installation.py):
SQLite in a temporary folder, or a fresh PostgreSQL database (dropped afterwards) when the database
URL points at PostgreSQL, and ``invigil serve`` on a free 127.0.0.1 port as a subprocess. With
``server`` (127.0.0.1 or localhost only) it needs the exam id, a file of unused activation codes
(one per line) and coordinator credentials; codes work once, so such a run cannot be repeated.

The agents speak HTTP/1.1 through a lean client (sim/load/wire.py) over keep-alive connections,
shared as behind a reverse proxy (``connections``), or one per agent (``connections=0``). Latency is
measured on the client around every attempt, waiting for a free connection included, so it includes
the load generator's own delays: its event-loop lag and garbage-collector pauses are reported
(``loop_lag_ms``, ``gc_pauses``); if they grow, the generator is the limit. Automatic full
collections are off during the timed phase, as one takes hundreds of milliseconds with thousands of
live agents. The generator runs on uvloop.
"""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvloop

from invigil.sim.load.agents import Run, SimAgent
from invigil.sim.load.cpu import cpu_percent, cpu_sample
from invigil.sim.load.installation import check, external_target, local_target, server_log_tail
from invigil.sim.load.options import LoadOptions, Target
from invigil.sim.load.report import Outcome, SteadyCpu, build_report, ms, print_report
from invigil.sim.load.stats import ENDPOINTS, percentile

# Latencies "after the arrivals" start this long after the last candidate's arrival (activation).
STEADY_AFTER_RAMP = 10.0

__all__ = ["ENDPOINTS", "LoadOptions", "build_report", "percentile", "print_report", "run_loadtest"]


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
        gc.freeze()  # what exists now (agents, keys, codes) is never scanned again
        gc.set_threshold(self._thresholds[0], self._thresholds[1], 1_000_000_000)
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._callback)
        gc.unfreeze()
        gc.set_threshold(*self._thresholds)

    def summary(self) -> dict[str, float]:
        return {
            "count": len(self.pauses),
            "total_ms": ms(sum(self.pauses)),
            "max_ms": ms(max(self.pauses, default=0.0)),
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
    steady_cpu: SteadyCpu | None


async def _steady_cpu(target: Target, since: float, until: float) -> SteadyCpu | None:
    """CPU over the sustained load alone (arrivals over, to the deadline): activations are a one-off
    cost per candidate, and the ramp packs them into seconds, so the whole-run figure overstates
    what a request costs while an exam runs."""
    loop = asyncio.get_running_loop()
    if until - since < 10:
        return None
    await asyncio.sleep(since - loop.time())
    before = cpu_sample(target.server)
    await asyncio.sleep(until - loop.time())
    return SteadyCpu(since, until, cpu_percent(before, cpu_sample(target.server), until - since))


async def _timed_phase(run: Run, agents: list[SimAgent], target: Target, start: float) -> Phase:
    """Every agent from its arrival to the deadline; stragglers are cancelled after the grace time."""
    loop = asyncio.get_running_loop()
    lags: list[float] = []
    monitor = asyncio.create_task(_monitor(run, agents, lags, run.opts.quiet))
    cpu0 = cpu_sample(target.server)
    steady = asyncio.create_task(
        _steady_cpu(target, start + run.opts.ramp_seconds + STEADY_AFTER_RAMP, run.deadline)
    )
    arrivals = sorted(run.rng.uniform(0, run.opts.ramp_seconds) for _ in agents)
    with GcPauses() as pauses:
        tasks = [asyncio.create_task(a.main(start + at)) for a, at in zip(agents, arrivals, strict=True)]
        hard_stop = run.stop_retrying + run.opts.timeout_seconds + 5 - loop.time()
        _, pending = await asyncio.wait(tasks, timeout=hard_stop)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    elapsed = loop.time() - start
    cpu = cpu_percent(cpu0, cpu_sample(target.server), elapsed)
    monitor.cancel()
    with suppress(asyncio.CancelledError):
        await monitor
    for task in tasks:
        if not task.cancelled() and task.exception() is not None:
            run.stats.errors[f"simulator: {task.exception()!r}"[:200]] += 1
    return Phase(elapsed, cpu, lags, pauses.summary(), await steady)


async def _drive(opts: LoadOptions, target: Target) -> Outcome:
    async with httpx.AsyncClient(base_url=target.url, timeout=300) as staff_http:
        headers = await _login(staff_http, target.login)  # once, before the load: fail early
        start = asyncio.get_running_loop().time()
        run = Run(opts, target.url, start + opts.minutes * 60)
        agents = [SimAgent(run, code) for code in target.codes[: opts.candidates]]
        phase = await _timed_phase(run, agents, target, start)
        board = await _board(staff_http, headers, target.exam_id)
    steady_from = start + opts.ramp_seconds + STEADY_AFTER_RAMP
    return Outcome(
        agents,
        run.stats,
        phase.elapsed,
        phase.cpu_percent,
        phase.loop_lag,
        phase.gc,
        board,
        steady_from,
        phase.steady_cpu,
    )


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
    check(opts)
    with _terminate_cleanly():
        report = _run(opts)
    if not opts.quiet:
        print_report(report)
    if opts.json_out:
        Path(opts.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return report


def _loop(main: Any) -> Outcome:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)  # type: ignore[no-any-return]


def _run(opts: LoadOptions) -> dict[str, Any]:
    if opts.server:
        target = external_target(opts)
        outcome = _loop(_drive(opts, target))
        report = build_report(opts, target, outcome)
    else:
        with local_target(opts) as target:
            outcome = _loop(_drive(opts, target))
            report = build_report(opts, target, outcome)
            report["server_log_tail"] = server_log_tail(target)
    return report
