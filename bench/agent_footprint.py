"""CPU and memory of the candidate agent over a simulated exam, with every capture source the policy
catalogue offers switched on and the live analysis on (issue 6: under 5 % of one core on average and
under 300 MB resident).

    .venv/bin/python bench/agent_footprint.py ../shared/media --minutes 10 \
        --json bench/results/agent_footprint.json

What runs: a throw-away installation (SQLite in a temporary folder) and `invigil serve` on loopback,
its analysis queue off (only the agent is measured); Xvfb (1280x800) with a Tk window standing for
the exam window; and the agent in a process of its own (this script with ``--agent``), built as the
real agent is: ``AgentRuntime`` with ``build_sources(policy, RealOptions(...))``. The webcam is a
video file (MEDIA/proctoring_ai/eye_tracking/center_focus.mp4, looping), the microphone a WAV file
(MEDIA/vad_programy/speech/english1.wav, looping), the browser history a Firefox profile in a
temporary home. During the exam the bench saves the answer file in the hand-in folder and adds a
browser visit every minute; at the end the agent hands in.

This process samples the agent once a second with psutil: CPU time (its own threads plus its
children, the xdotool/xprop/xclip calls it waits for, counted when reaped, and any child still
running), resident memory (RSS) of the agent and of the agent with its children. Reported: the
average % of one core over the whole exam, over the first minute (imports, model loading,
activation) and after it; p50/p95/max of 10 s windows; peak and median RSS; the load average of the
machine, which other work shares. MEDIA missing: a message and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MEDIA = ROOT.parent / "shared" / "media"
CAMERA = Path("proctoring_ai/eye_tracking/center_focus.mp4")
SPEECH = Path("vad_programy/speech/english1.wav")
EXAM_WINDOW = "Invigil exam"
GOAL_CPU_PERCENT = 5.0
GOAL_RSS_MB = 300.0
WINDOW_SECONDS = 10
FIRST_SECONDS = 60

# Every source in the policy catalogue that the agent captures, at intervals an exam would use.
POLICY: dict[str, Any] = {
    "screenshots": {"enabled": True, "interval": {"min_seconds": 30, "max_seconds": 90}},
    "webcam": {"enabled": True, "mode": "snapshots", "interval": {"min_seconds": 15, "max_seconds": 45}},
    "microphone": {"enabled": True, "mode": "detection", "clip_seconds": 15},
    "process_snapshots": {"enabled": True, "interval_seconds": 60, "forbidden": ["discord", "*chatgpt*"]},
    "browser_history": {"enabled": True, "allowed_sites": ["uni.example"]},
    "handin_folder_backup": {"enabled": True},
    "removable_storage": {"mode": "record"},
    "clipboard": {"clear_at_start_and_end": True},
    "face_verification": {"enabled": True},
    "tail_period_seconds": 0,
}

WINDOW = textwrap.dedent(
    """
    import sys, tkinter as tk
    root = tk.Tk()
    root.title(sys.argv[1])
    root.geometry("1000x700+100+50")
    tk.Label(root, text="Exam in progress", font=("Helvetica", 24)).pack(pady=60)
    root.update()
    root.focus_force()
    print("ready", flush=True)
    root.mainloop()
    """
)


# --- the agent, in its own process -------------------------------------------------------------
def agent_main(config_path: Path) -> int:
    """Run one candidate's agent as the real one is built; write its status next to the config."""
    import asyncio
    import logging

    from invigil.agent.runtime import AgentRuntime, policy_sources
    from invigil.agent.sources.real import RealOptions, build_sources, problems
    from invigil.agent.sources.real.handin_folder import HandinFolder
    from invigil.sim.classroom import reads_and_accepts

    logging.basicConfig(level=logging.WARNING, format="agent: %(levelname)s %(message)s")
    cfg = json.loads(config_path.read_text())
    handin = Path(cfg["handin_dir"])
    options = RealOptions(
        camera=cfg["camera"],
        microphone_wav=Path(cfg["microphone_wav"]),
        handin_dir=handin,
        exam_start=datetime.fromisoformat(cfg["exam_start"]),
        exam_end=datetime.fromisoformat(cfg["exam_end"]),
        exam_window=EXAM_WINDOW,
        home=Path(cfg["home"]),
    )
    folder = HandinFolder(handin)

    def sources(policy: Any) -> Any:
        if found := problems(policy, options):
            raise SystemExit(f"the agent cannot capture everything: {found}")
        return policy_sources(policy, build_sources(policy, options))

    runtime = AgentRuntime(
        cfg["url"],
        Path(cfg["spool"]),
        cfg["code"],
        sources,
        folder.files,
        handin_after=cfg["seconds"],
        read_notice=reads_and_accepts,
    )
    status = asyncio.run(runtime.run())
    Path(cfg["status"]).write_text(
        json.dumps({"phase": status.phase, "captured": status.captured, "error": status.error})
    )
    return 0 if status.phase == "closed" else 1


# --- the desktop -------------------------------------------------------------------------------
@contextmanager
def xvfb() -> Any:
    """Xvfb on a free display (as tests/integration/xdisplay.py starts it); answers DISPLAY."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb is not installed (make setup installs it): nothing to measure on.")
    read, write = os.pipe()
    args = ["Xvfb", "-displayfd", str(write), "-nolisten", "tcp", "-noreset", "-screen", "0", "1280x800x24"]
    proc = subprocess.Popen(  # noqa: S603 - a fixed tool and fixed arguments
        args, pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    os.close(write)
    try:
        with os.fdopen(read) as f:
            number = f.readline().strip()
        if not number:
            raise SystemExit("Xvfb did not start")
        yield f":{number}"
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[Any], sig: int = signal.SIGTERM) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def exam_window(display: str) -> Any:
    """A Tk window titled like the exam window, holding the focus (the agent's focus source)."""
    env = {**os.environ, "DISPLAY": display}
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WINDOW, EXAM_WINDOW], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise SystemExit("the exam window (Tk) did not open")
        yield proc
    finally:
        stop(proc)


def firefox_profile(home: Path, visits: int = 20_000) -> Path:
    """A Firefox profile with a history of ``visits`` visits from the months before the exam."""
    profile = home / ".mozilla" / "firefox" / "bench.default-release"
    profile.mkdir(parents=True)
    db = profile / "places.sqlite"
    with sqlite3.connect(db) as conn:
        conn.executescript(
            "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT, title TEXT);"
            "CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, place_id INTEGER, visit_date INTEGER);"
        )
        now = time.time()
        conn.executemany(
            "INSERT INTO moz_places (id, url, title) VALUES (?, ?, ?)",
            [(i, f"https://site{i % 500}.example/page/{i}", f"Page {i}") for i in range(1, visits + 1)],
        )
        conn.executemany(
            "INSERT INTO moz_historyvisits (place_id, visit_date) VALUES (?, ?)",
            [(i, int((now - 90 * 86400 + i * 300) * 1e6)) for i in range(1, visits + 1)],
        )
    return db


def visit(db: Path, minute: int) -> None:
    with sqlite3.connect(db) as conn:
        cur = conn.execute(
            "INSERT INTO moz_places (url, title) VALUES (?, ?)",
            (f"https://moodle.uni.example/exam/{minute}", f"Exam page {minute}"),
        )
        conn.execute(
            "INSERT INTO moz_historyvisits (place_id, visit_date) VALUES (?, ?)",
            (cur.lastrowid, int(time.time() * 1e6)),
        )


def candidate(handin: Path, history: Path, done: threading.Event) -> None:
    """Every minute the candidate saves the answer (a little longer each time) and visits a page."""
    text = ""
    minute = 0
    while not done.wait(60):
        minute += 1
        text += f"Answer, minute {minute}. " + "Lorem ipsum dolor sit amet. " * 40 + "\n"
        if handin.is_dir():
            (handin / "answer.txt").write_text(text)
        visit(history, minute)


# --- the installation --------------------------------------------------------------------------
def install(data_dir: Path, seconds: float) -> tuple[str, datetime, datetime]:
    """An institution and an exam with POLICY and one candidate. -> (code, exam start, exam end)."""
    from invigil.accounts import service as accounts
    from invigil.accounts.models import Role
    from invigil.config import Settings
    from invigil.container import Container
    from invigil.exams import service as exams
    from invigil.institutions.models import Institution
    from invigil.kit.clock import utcnow
    from invigil.setup import initialize

    c = Container.from_settings(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir}/invigil.db"))
    try:
        init = initialize(
            c,
            slug="bench",
            name="Footprint Bench University",
            region="local",
            passphrase="bench-" + os.urandom(8).hex(),
            recovery_file=data_dir / "recovery-key.json",
        )
        start = utcnow() - timedelta(minutes=1)
        end = utcnow() + timedelta(seconds=seconds + 600)
        with c.uow() as db:
            institution = db.get(Institution, init.institution_id)
            assert institution is not None
            coordinator = accounts.create_staff(
                db, institution, "coordinator@bench.example", "Coordinator", Role.COORDINATOR, "x" * 20
            )
            exam = exams.create_exam(
                db,
                institution,
                title="Footprint bench",
                starts_at=start,
                ends_at=end,
                timezone="UTC",
                policy=POLICY,
                created_by=coordinator,
            )
            issued = exams.add_candidates(db, exam, [{"full_name": "Bench Candidate"}])
            return issued[0].code, start, end
    finally:
        c.close()


@contextmanager
def server(data_dir: Path, log: Path) -> Any:
    import socket

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = {
        **os.environ,
        "INVIGIL_DATA_DIR": str(data_dir),
        "INVIGIL_DATABASE_URL": f"sqlite:///{data_dir}/invigil.db",
        "INVIGIL_HOST": "127.0.0.1",
        "INVIGIL_PORT": str(port),
        "INVIGIL_ANALYSIS_QUEUE": "off",  # the institution's worker is not what is measured
    }
    with open(log, "wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "invigil.cli.main", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-2000:]}")
            with suppress(httpx.TransportError):
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc, signal.SIGINT)


# --- sampling ----------------------------------------------------------------------------------
def sample(root: Any) -> tuple[float, float, float, float]:
    """-> (CPU seconds of the agent and its children, of its children alone, RSS MB of the agent, RSS MB
    with children)."""
    import psutil

    t = root.cpu_times()
    children = t.children_user + t.children_system  # the tools it ran and waited for
    cpu = t.user + t.system + children
    rss = root.memory_info().rss
    total = rss
    exe = root.exe()
    for child in root.children(recursive=True):
        with suppress(psutil.Error):  # a tool that ended between the listing and the look
            ct = child.cpu_times()
            cpu += ct.user + ct.system
            children += ct.user + ct.system
            if child.exe() != exe:  # not a fork still before its exec: its pages are the agent's
                total += child.memory_info().rss
    return cpu, children, rss / 2**20, total / 2**20


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarise(samples: list[dict[str, float]]) -> dict[str, Any]:
    """Samples of (t since the agent started, cpu seconds, rss MB, rss with children MB, load)."""
    last = samples[-1]

    def pct(a: dict[str, float], b: dict[str, float]) -> float:
        return 100 * (b["cpu"] - a["cpu"]) / max(1e-9, b["t"] - a["t"])

    first = next((s for s in samples if s["t"] >= FIRST_SECONDS), last)
    windows = [
        pct(samples[i], samples[i + WINDOW_SECONDS])
        for i in range(0, len(samples) - WINDOW_SECONDS, WINDOW_SECONDS)
    ]
    steady_windows = [
        pct(samples[i], samples[i + WINDOW_SECONDS])
        for i in range(0, len(samples) - WINDOW_SECONDS, WINDOW_SECONDS)
        if samples[i]["t"] >= FIRST_SECONDS
    ]
    steady = [s for s in samples if s["t"] >= FIRST_SECONDS]
    rss = [s["rss"] for s in samples]
    return {
        "seconds": round(last["t"], 1),
        "cpu_seconds": round(last["cpu"], 2),
        "cpu_seconds_in_child_processes": round(last.get("cpu_children", 0.0), 2),
        "cpu_percent_of_one_core": {
            "whole_run": round(100 * last["cpu"] / last["t"], 2),
            "first_minute": round(100 * first["cpu"] / max(1e-9, first["t"]), 2),
            "after_first_minute": round(pct(first, last), 2) if last["t"] > first["t"] else None,
            "10s_windows_p50": round(percentile(windows, 0.5), 2) if windows else None,
            "10s_windows_p95": round(percentile(windows, 0.95), 2) if windows else None,
            "10s_windows_max": round(max(windows), 2) if windows else None,
            "10s_windows_after_first_minute_p95": (
                round(percentile(steady_windows, 0.95), 2) if steady_windows else None
            ),
        },
        "rss_mb": {
            "peak": round(max(rss), 1),
            "median": round(statistics.median(rss), 1),
            "median_after_first_minute": round(statistics.median(s["rss"] for s in steady), 1)
            if steady
            else None,
            "peak_with_children": round(max(s["rss_all"] for s in samples), 1),
            "at_end": round(rss[-1], 1),
        },
        "load_average_1min": {
            "mean": round(statistics.fmean(s["load"] for s in samples), 2),
            "max": round(max(s["load"] for s in samples), 2),
        },
    }


def spooled(spool: Path) -> dict[str, Any]:
    """What the agent captured (items by kind) and which events it sent (by type), from its spool."""
    with sqlite3.connect(spool / "spool.db") as conn:
        items = Counter(k for (k,) in conn.execute("SELECT kind FROM items"))
        events = Counter(json.loads(b)["type"] for (b,) in conn.execute("SELECT body FROM events"))
    return {"items": dict(sorted(items.items())), "events": dict(sorted(events.items()))}


def machine() -> dict[str, Any]:
    import platform

    import psutil

    versions = {}
    for name in (
        "mediapipe",
        "onnxruntime",
        "opencv-python-headless",
        "numpy",
        "silero-vad",
        "mss",
        "pillow",
        "psutil",
    ):
        with suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name)
    return {
        "cpus": os.cpu_count(),
        "processor": next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "libraries": versions,
    }


def measure(media: Path, minutes: float, quiet: bool) -> dict[str, Any]:
    import psutil

    seconds = minutes * 60
    say = (lambda *_: None) if quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    with tempfile.TemporaryDirectory(prefix="invigil-footprint-") as tmp_name:
        tmp = Path(tmp_name)
        data_dir = tmp / "data"
        data_dir.mkdir()
        code, start, end = install(data_dir, seconds)
        home = tmp / "home"
        history = firefox_profile(home)
        handin = tmp / "Hand-in"
        config = tmp / "agent.json"
        status_file = tmp / "status.json"
        with server(data_dir, tmp / "server.log") as url, xvfb() as display, exam_window(display):
            config.write_text(
                json.dumps(
                    {
                        "url": url,
                        "code": code,
                        "spool": str(tmp / "spool"),
                        "handin_dir": str(handin),
                        "home": str(home),
                        "camera": str(media / CAMERA),
                        "microphone_wav": str(media / SPEECH),
                        "exam_start": start.isoformat(),
                        "exam_end": end.isoformat(),
                        "seconds": seconds,
                        "status": str(status_file),
                    }
                )
            )
            env = {**os.environ, "DISPLAY": display, "HOME": str(home)}
            done = threading.Event()
            saver = threading.Thread(target=candidate, args=(handin, history, done), daemon=True)
            began = time.monotonic()
            agent = subprocess.Popen(  # noqa: S603 - our own interpreter and this script
                [sys.executable, str(Path(__file__).resolve()), "--agent", str(config)], env=env
            )
            saver.start()
            root = psutil.Process(agent.pid)
            samples: list[dict[str, float]] = []
            say(f"agent pid {agent.pid} on {display}, {minutes:g} min exam, sampling every second")
            try:
                while agent.poll() is None:
                    with suppress(psutil.Error):
                        cpu, kids, rss, rss_all = sample(root)
                        t = time.monotonic() - began
                        samples.append(
                            {
                                "t": t,
                                "cpu": cpu,
                                "cpu_children": kids,
                                "rss": rss,
                                "rss_all": rss_all,
                                "load": os.getloadavg()[0],
                            }
                        )
                        if not quiet and len(samples) % 60 == 0:
                            say(f"[{t:4.0f}s] cpu {100 * cpu / t:.1f} % of one core, rss {rss:.0f} MB")
                    time.sleep(max(0.0, began + len(samples) + 1 - time.monotonic()))
            finally:
                done.set()
                if agent.poll() is None:
                    stop(agent)
            status = json.loads(status_file.read_text()) if status_file.exists() else {"phase": "no status"}
            if not samples:
                raise SystemExit("the agent ended before it could be sampled")
            result = summarise(samples)
            result["agent"] = {**status, "exit": agent.returncode, **spooled(tmp / "spool")}
            result["samples"] = [
                {k: round(v, 3) for k, v in s.items()} for s in samples[:: max(1, len(samples) // 600)]
            ]
            return result


def table(result: dict[str, Any]) -> str:
    c, m = result["cpu_percent_of_one_core"], result["rss_mb"]
    rows = [
        ("run length", f"{result['seconds']:.0f} s", ""),
        ("CPU, whole run (% of one core)", f"{c['whole_run']:.2f}", f"goal < {GOAL_CPU_PERCENT:g}"),
        ("CPU, first minute", f"{c['first_minute']:.2f}", "imports, models, activation"),
        ("CPU, after the first minute", f"{c['after_first_minute']}", ""),
        (
            "CPU, 10 s windows p50 / p95 / max",
            f"{c['10s_windows_p50']} / {c['10s_windows_p95']} / {c['10s_windows_max']}",
            "",
        ),
        (
            "CPU seconds, of which child processes",
            f"{result['cpu_seconds']} / {result['cpu_seconds_in_child_processes']}",
            "xdotool, xprop, xclip",
        ),
        ("RSS peak (MB)", f"{m['peak']:.1f}", f"goal < {GOAL_RSS_MB:g}"),
        ("RSS median / after first minute (MB)", f"{m['median']:.1f} / {m['median_after_first_minute']}", ""),
        ("RSS peak with children (MB)", f"{m['peak_with_children']:.1f}", ""),
        (
            "load average (1 min) mean / max",
            f"{result['load_average_1min']['mean']} / {result['load_average_1min']['max']}",
            f"{os.cpu_count()} cores, shared",
        ),
        ("agent", f"{result['agent']['phase']}", f"{result['agent'].get('items')}"),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{a:<{width}}  {b:>22}  {c_}" for a, b, c_ in rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("media", type=Path, nargs="?", default=DEFAULT_MEDIA, metavar="MEDIA")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the simulated exam")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results here as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.add_argument("--agent", type=Path, help=argparse.SUPPRESS)  # the agent process itself
    args = parser.parse_args()
    if args.agent:
        return agent_main(args.agent)
    missing = [p for p in (CAMERA, SPEECH) if not (args.media / p).is_file()]
    if missing:
        print(
            f"no media at {args.media} (expected {', '.join(map(str, missing))}): nothing to measure. "
            "Pass the media folder as the first argument.",
            file=sys.stderr,
        )
        return 2
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    result = measure(args.media, args.minutes, args.quiet)
    result = {
        "question": "CPU and memory of the agent with every source and the live analysis on",
        "date": started.isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "policy": POLICY,
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        **result,
    }
    print(table(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    ok = result["agent"]["phase"] == "closed"
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
