"""CPU seconds of the load generator, the server's processes, PostgreSQL and the whole machine."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far by this process, the server's processes, PostgreSQL (all of its
    processes on the machine) and the whole machine (busy time)."""

    generator: float
    server: float | None
    database: float | None
    machine: float | None


def cpu_sample(proc: subprocess.Popen[bytes] | None) -> CpuSample:
    procs = _processes()
    if not procs:
        return CpuSample(time.process_time(), None, None, None)
    server = _tree_cpu(proc.pid, procs) if proc is not None else None
    database = sum(p.cpu for p in procs.values() if p.name == "postgres")
    return CpuSample(time.process_time(), server, database, _machine_busy())


def cpu_percent(before: CpuSample, after: CpuSample, elapsed: float) -> dict[str, float | None]:
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
