"""The report of a load run: latencies per endpoint, items sent and stored, CPU shares."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from invigil.sim.load.agents import SimAgent
from invigil.sim.load.options import LoadOptions, Target
from invigil.sim.load.stats import EndpointStats, Stats, percentile


@dataclass(frozen=True)
class SteadyCpu:
    """CPU shares over a window of the run (event-loop times)."""

    since: float
    until: float
    cpu_percent: dict[str, float | None]


@dataclass
class Outcome:
    agents: list[SimAgent]
    stats: Stats
    elapsed: float
    cpu_percent: dict[str, float | None]
    loop_lag: list[float]
    gc: dict[str, float]
    board: dict[str, int]
    steady_from: float  # event-loop time: arrivals over, plus STEADY_AFTER_RAMP seconds
    steady_cpu: SteadyCpu | None = None


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


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _endpoint_report(s: EndpointStats, elapsed: float) -> dict[str, Any]:
    return {
        "requests": len(s.latencies),
        "ok": s.ok,
        "failed": s.failed,
        "retries": s.retries,
        "gave_up": s.gave_up,
        "rps": round(len(s.latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": ms(percentile(s.latencies, 50)),
        "p95_ms": ms(percentile(s.latencies, 95)),
        "p99_ms": ms(percentile(s.latencies, 99)),
        "max_ms": ms(max(s.latencies, default=0.0)),
    }


def build_report(opts: LoadOptions, target: Target, out: Outcome) -> dict[str, Any]:
    items = _items(out.agents, out.board)
    everything = [x for s in out.stats.endpoints.values() for x in s.latencies]
    total: dict[str, Any] = {
        "requests": len(everything),
        "rps": round(len(everything) / out.elapsed, 1) if out.elapsed else 0.0,
        "p50_ms": ms(percentile(everything, 50)),
        "p95_ms": ms(percentile(everything, 95)),
        "p99_ms": ms(percentile(everything, 99)),
        "max_ms": ms(max(everything, default=0.0)),
        "failed": sum(s.failed for s in out.stats.endpoints.values()),
        "retries": sum(s.retries for s in out.stats.endpoints.values()),
    }
    steady = out.stats.steady(out.steady_from)
    total["steady"] = {  # once every candidate has arrived and activated: the sustained load alone
        "requests": len(steady),
        "p50_ms": ms(percentile(steady, 50)),
        "p95_ms": ms(percentile(steady, 95)),
        "p99_ms": ms(percentile(steady, 99)),
    }
    return {
        "cpu_steady": _cpu_steady(out),
        "backend": target.backend,
        "workers": opts.workers if not opts.server else None,
        "connections": opts.connections or "one per agent",
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
        "loop_lag_ms": {"p99": ms(percentile(out.loop_lag, 99)), "max": ms(max(out.loop_lag, default=0.0))},
        "cpus": os.cpu_count(),
    }


def _cpu_steady(out: Outcome) -> dict[str, Any] | None:
    """CPU shares and CPU ms per request over the sustained load, from the requests started in it."""
    window = out.steady_cpu
    if window is None:
        return None
    requests = out.stats.started_between(window.since, window.until)
    seconds = window.until - window.since
    per_request = {
        k: None if v is None or not requests else round(10 * v * seconds / requests, 3)
        for k, v in window.cpu_percent.items()
    }
    return {
        "seconds": round(seconds, 1),
        "requests": requests,
        "rps": round(requests / seconds, 1),
        "cpu_percent": window.cpu_percent,
        "cpu_ms_per_request": per_request,
    }


def print_report(report: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=None if sys.stdout.isatty() else 132)
    title = (
        f"invigil loadtest — {report['backend']}, {report['workers'] or 'external'} worker(s), "
        f"{report['candidates']} candidates, {report['minutes']:g} min ({report['elapsed_seconds']} s), "
        f"connections: {report['connections']}"
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
    steady = report["total"]["steady"]
    console.print(
        f"After the arrivals ({steady['requests']} requests): p50 {steady['p50_ms']} ms, "
        f"p95 {steady['p95_ms']} ms, p99 {steady['p99_ms']} ms."
    )
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
    steady_cpu = report["cpu_steady"]
    if steady_cpu is not None:
        per = steady_cpu["cpu_ms_per_request"]
        console.print(
            f"After the arrivals ({steady_cpu['seconds']} s, {steady_cpu['rps']} requests/s), CPU ms per "
            f"request: server {per['server']}, PostgreSQL {per['database']}, load generator "
            f"{per['generator']}, everything else {per['other']}."
        )
