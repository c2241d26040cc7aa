"""Ingest benchmark: run `invigil loadtest` scenarios and print a Markdown table of the results.

A scenario is named BACKEND-WORKERSw-CANDIDATES, e.g. ``sqlite-1w-1000`` or ``pg-2w-3000``::

    .venv/bin/python bench/loadtest.py                      # the default set (see DEFAULT)
    .venv/bin/python bench/loadtest.py pg-2w-3000 --repeat 2
    .venv/bin/python bench/loadtest.py --table              # only re-print the table from saved JSON
    .venv/bin/python bench/loadtest.py --table --medians    # one row per scenario: medians of its runs

Each run starts its own server (SQLite in a temporary folder, or a fresh PostgreSQL database on
BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres) and writes its report
to bench/results/SCENARIO-rN.json (N: the next free number). The load generator runs on the same
machine as the server.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEFAULT = ["sqlite-1w-1000", "pg-1w-1000"]
SCENARIO = re.compile(r"^(sqlite|pg)-(\d+)w-(\d+)$")


def _next_path(folder: Path, name: str) -> Path:
    index = 1
    while (folder / f"{name}-r{index}.json").exists():
        index += 1
    return folder / f"{name}-r{index}.json"


def run(name: str, minutes: float, ramp: float, folder: Path) -> Path:
    match = SCENARIO.match(name)
    if not match:
        raise SystemExit(f"{name}: scenarios look like sqlite-1w-1000 or pg-2w-3000")
    backend, workers, candidates = match.group(1), match.group(2), match.group(3)
    out = _next_path(folder, name)
    env = {**os.environ, "INVIGIL_DATABASE_URL": PG_URL if backend == "pg" else ""}
    cmd = [
        sys.executable,
        "-m",
        "invigil.cli.main",
        "loadtest",
        "--candidates",
        candidates,
        "--minutes",
        f"{minutes:g}",
        "--ramp",
        f"{ramp:g}",
        "--workers",
        workers,
        "--json",
        str(out),
    ]
    print(f"\n== {out.stem}: {' '.join(cmd[2:])}", flush=True)
    subprocess.run(cmd, env=env, check=False)  # noqa: S603 - our own interpreter and module
    return out


def _median(reports: list[dict[str, Any]], *path: str) -> float:
    values = []
    for r in reports:
        value: Any = r
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            values.append(float(value))
    return statistics.median(values) if values else float("nan")


def _cell(value: float, digits: int = 0) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f}"  # older reports lack some fields


def row(name: str, reports: list[dict[str, Any]]) -> str:
    """One table row; with several runs of a scenario every number is the median, ``lost`` the worst."""
    first = reports[0]
    latencies = [
        " / ".join(f"{_median(reports, 'endpoints', e, q):.0f}" for q in ("p50_ms", "p95_ms", "p99_ms"))
        for e in first["endpoints"]
    ]
    cpu = " / ".join(
        f"{_median(reports, 'cpu_percent', k):.0f}" for k in ("server", "database", "generator", "other")
    )
    per_request = " / ".join(
        _cell(statistics.median(10 * (r["cpu_percent"][k] or 0) / r["total"]["rps"] for r in reports), 2)
        for k in ("server", "database", "generator")
    )
    steady = " / ".join(
        _cell(_median(reports, "cpu_steady", "cpu_ms_per_request", k), 2)
        for k in ("server", "database", "generator")
    )
    cells = [
        name,
        first["backend"],
        str(first["workers"]),
        str(first["candidates"]),
        f"{first['minutes']:g}",
        str(len(reports)),
        f"{_median(reports, 'total', 'rps'):.0f}",
        *latencies,
        f"{_median(reports, 'total', 'p99_ms'):.0f}",
        _cell(_median(reports, "total", "steady", "p99_ms")),
        f"{_median(reports, 'total', 'failed'):.0f}",
        str(max(r["lost"] for r in reports)),
        cpu,
        per_request,
        steady,
    ]
    return "| " + " | ".join(cells) + " |"


HEAD = [
    "scenario",
    "backend",
    "workers",
    "candidates",
    "min",
    "runs",
    "req/s",
    "activate p50/95/99 ms",
    "heartbeat p50/95/99 ms",
    "events p50/95/99 ms",
    "evidence p50/95/99 ms",
    "all p99 ms",
    "after arrivals p99 ms",
    "errors (retried)",
    "lost",
    "CPU % server / PG / generator / other",
    "CPU ms per request server / PG / generator",
    "after arrivals: CPU ms per request server / PG / generator",
]


def table(paths: list[Path], by_scenario: bool = False) -> str:
    """Markdown table, one row per run, or per scenario (medians over its runs)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for path in paths:
        if path.exists():
            name = re.sub(r"-r\d+$", "", path.stem) if by_scenario else path.stem
            groups.setdefault(name, []).append(json.loads(path.read_text()))
    lines = ["| " + " | ".join(HEAD) + " |", "|" + "---|" * len(HEAD)]
    order = sorted(
        groups,
        key=lambda n: (groups[n][0]["backend"], groups[n][0]["workers"] or 0, groups[n][0]["candidates"], n),
    )
    lines += [row(name, groups[name]) for name in order]
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="*", help=f"default: {' '.join(DEFAULT)}")
    p.add_argument("--minutes", type=float, default=2.0)
    p.add_argument("--ramp", type=float, default=30.0)
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--table", action="store_true", help="print the table of all saved results and exit")
    p.add_argument("--medians", action="store_true", help="with --table: one row per scenario (medians)")
    p.add_argument("--results", type=Path, default=RESULTS, help=f"folder of the JSON reports ({RESULTS})")
    args = p.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    if args.table:
        print(table(sorted(args.results.glob("*.json")), by_scenario=args.medians))
        return 0
    runs = [n for n in args.scenarios or DEFAULT for _ in range(args.repeat)]
    paths = [run(n, args.minutes, args.ramp, args.results) for n in runs]
    print("\n" + table(paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
