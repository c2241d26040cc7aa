"""`invigil demo`: a whole installation, an exam and a simulated class, on the embedded default."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.live import Live
from rich.table import Table
from sqlalchemy import update
from sqlalchemy.orm import Session

from invigil.accounts import keys as staff_keys
from invigil.accounts import service as accounts
from invigil.accounts import twofactor
from invigil.accounts.models import Role, Staff
from invigil.cli.assignment import Refused, Sealed, seal_files
from invigil.cli.assignment import upload as upload_assignment
from invigil.config import Settings
from invigil.container import Container
from invigil.exams import service as exams
from invigil.exams.models import Exam
from invigil.flags import service as flag_rules
from invigil.institutions.models import Institution
from invigil.kit import envelope, totp
from invigil.kit import pin as pins
from invigil.kit.clock import utcnow
from invigil.kit.keywrap import new_staff_key
from invigil.sessions.models import ExamSession
from invigil.setup import initialize
from invigil.sim.classroom import Seat, run_class, script

MARKER = ".invigil-demo"
LEAD_SECONDS = 10  # before the start: candidates activate and download the sealed assignment
FIRST = [
    "Ada",
    "Bo",
    "Cecilie",
    "Dag",
    "Ebba",
    "Frederik",
    "Greta",
    "Hans",
    "Ida",
    "Jonas",
    "Karin",
    "Lars",
    "Maja",
    "Nils",
    "Olga",
    "Per",
    "Rasmus",
    "Signe",
    "Tove",
    "Ulrik",
    "Vera",
    "Wilhelm",
]
LAST = [
    "Andersen",
    "Berg",
    "Christensen",
    "Dahl",
    "Eriksson",
    "Fischer",
    "Hansen",
    "Jensen",
    "Karlsson",
    "Lindqvist",
    "Müller",
    "Nielsen",
    "Olsen",
    "Petersen",
    "Schmidt",
    "Weber",
]


@dataclass
class DemoOptions:
    candidates: int = 30
    minutes: float = 3.0
    port: int = 8000
    data_dir: Path = Path("./invigil-demo")
    exit_when_done: bool = False
    summary: Path | None = None
    svg: Path | None = None  # save the final table as an SVG picture (used for the README)


def prepare_dir(path: Path) -> None:
    """The demo owns its folder: it wipes only a folder it created itself (marked)."""
    if path.exists() and any(path.iterdir()):
        if not (path / MARKER).exists():
            raise SystemExit(f"{path} exists and was not created by the demo; choose another --data-dir.")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("created by `invigil demo`; deleted and recreated by the next demo run\n")


def demo_policy(minutes: float) -> dict[str, Any]:
    """Screens, webcam snapshots, speech detection (no sound kept), programs, hand-in backups.
    Short runs capture more often, so that a half-minute test still sees a baseline and episodes."""
    seconds = minutes * 60
    tail = int(min(900, max(15, seconds / 6)))
    webcam = max(5, min(15, int(seconds / 12)))
    return {
        "screenshots": {"enabled": True, "interval": {"min_seconds": 10, "max_seconds": 20}},
        "webcam": {
            "enabled": True,
            "mode": "snapshots",
            "interval": {"min_seconds": webcam, "max_seconds": webcam + webcam // 2 + 1},
        },
        "microphone": {"enabled": True, "mode": "detection", "clip_seconds": max(4, min(15, webcam))},
        "process_snapshots": {"enabled": True, "interval_seconds": 20, "forbidden": ["discord", "*chatgpt*"]},
        "handin_folder_backup": {"enabled": True},
        "tail_period_seconds": tail,
        "allowed_offline_seconds": 600,
    }


def _give_key(db: Session, person: Staff, passphrase: str, iterations: int) -> None:
    """A person's key pair, as their browser or CLI would make it (the demo plays both sides)."""
    private_key, wrapped = new_staff_key(passphrase, person.id, iterations=iterations)
    public = envelope.b64e(envelope.raw_public(private_key.public_key()))
    staff_keys.set_key(db, person, public, wrapped, min_iterations=iterations, now=utcnow())


def demo_assignment(folder: Path, title: str) -> list[Path]:
    """The coordinator's assignment files: a short text and a small PDF."""
    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "Opgave.txt"
    text.write_text(f"{title}\n\n1. Show that binary search runs in O(log n).\n2. Sort 5 3 8 1 by hand.\n")
    pdf = folder / "Opgave.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% Invigil demo assignment\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")
    return [text, pdf]


def _start_server(settings_env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings_env}
    proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "invigil.cli.main", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"The server did not start:\n{err[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit(f"The server did not answer on port {port} within 30 seconds.")


def _reschedule(settings: Settings, exam_id: str, minutes: float) -> tuple[datetime, datetime]:
    """Start the demo exam ``LEAD_SECONDS`` from now (nobody has activated yet; codes expire at the end)."""
    start = utcnow() + timedelta(seconds=LEAD_SECONDS)
    end = start + timedelta(seconds=minutes * 60)
    c = Container.from_settings(settings)
    try:
        with c.uow() as db:
            db.execute(update(Exam).where(Exam.id == exam_id).values(starts_at=start, ends_at=end))
            db.execute(update(ExamSession).where(ExamSession.exam_id == exam_id).values(code_expires_at=end))
    finally:
        c.close()
    return start, end


def _fmt_bytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"


def _analysis_account(
    db: Session, institution: Institution, exam: Any, data_dir: Path, iterations: int
) -> dict[str, str]:
    """The institution's analysis worker (ADR 0009): a reviewer account with its own key pair, assigned
    to the exam like any reviewer. Its key passphrase sits in a 0600 file the worker reads."""
    worker = accounts.create_staff(
        db,
        institution,
        "analysis-worker@demo.example",
        "Analysis worker",
        Role.REVIEWER,
        accounts.generate_password(),
    )
    db.flush()
    passphrase = secrets.token_urlsafe(18)
    _give_key(db, worker, passphrase, iterations)
    exams.assign(db, exam, worker, Role.REVIEWER)
    path = data_dir / "keys" / "analysis-passphrase"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(passphrase + "\n")
    path.chmod(0o600)
    return {"INVIGIL_ANALYSIS_STAFF_ID": worker.id, "INVIGIL_ANALYSIS_PASSPHRASE_FILE": str(path)}


def _login_body(email: str, password: str, secret: str) -> dict[str, Any]:
    return {"institution": "demo", "email": email, "password": password, "totp_secret": secret}


def _with_code(body: dict[str, Any]) -> dict[str, str]:
    fields = {k: v for k, v in body.items() if k != "totp_secret"}
    return {**fields, "totp": totp.code_at(body["totp_secret"], time.time())}


def _flag_counts(url: str, exam_id: str, login: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The reviewer's view of flags per candidate, once the analysis jobs have settled."""
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.post("/api/v1/staff/login", json=_with_code(login))
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        last: dict[str, dict[str, Any]] | None = None
        for _ in range(30):  # until two looks a few seconds apart agree (the jobs have settled)
            resp = http.get(f"/api/v1/staff/exams/{exam_id}/flags", headers=headers)
            resp.raise_for_status()
            now = {
                row["candidate"]: {
                    "counts": row["counts"],
                    "behaviours": sorted({f["behaviour"] for f in row["flags"]}),
                }
                for row in resp.json()["sessions"]
            }
            if now == last:
                return now
            last = now
            time.sleep(2)
        return last or {}


def _flags_cell(entry: dict[str, Any] | None) -> str:
    if not entry or not entry["behaviours"]:
        return "—"
    counts = entry["counts"]
    return " ".join(f"{counts[c]}{c[0].upper()}" for c in ("red", "yellow", "green") if counts.get(c))


def _table(
    rows: list[dict[str, Any]],
    seats: dict[str, Seat],
    title: str,
    flags: dict[str, dict[str, Any]] | None = None,
) -> Table:
    t = Table(title=title, show_lines=False, header_style="bold")
    for col in (
        "candidate",
        "scripted",
        "agent",
        "state",
        "assignment",
        "items",
        "received",
        "heartbeat",
        "offline",
        *(["flags"] if flags is not None else []),
        "note",
    ):
        t.add_column(
            col, justify="right" if col in ("items", "received", "offline") else "left", no_wrap=True
        )
    now = utcnow()

    def order(r: dict[str, Any]) -> tuple[bool, str]:  # the scripted candidates first
        seat = seats.get(r["candidate"])
        return (seat is None or seat.behaviour.name == "normal", r["candidate"])

    for r in sorted(rows, key=order):
        seat = seats.get(r["candidate"])
        periods = len(r["offline_periods"])
        hb = r.get("last_heartbeat_at")
        age = "—" if not hb else f"{(now - _parse(hb)).total_seconds():.0f}s ago"
        t.add_row(
            r["candidate"],
            seat.behaviour.name if seat else "",
            seat.status.phase if seat else "",
            r["state"],
            _assignment(r),
            str(r["items"]),
            _fmt_bytes(r["bytes"]),
            age,
            f"{periods}× {r['offline_seconds']:.0f}s" if periods else "—",
            *([_flags_cell(flags.get(r["candidate"]))] if flags is not None else []),
            seat.note if seat else "",
        )
    return t


def _assignment(row: dict[str, Any]) -> str:
    if row.get("assignment_opened_at"):
        return "opened"
    return "received" if row.get("assignment_received_at") else "—"


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_demo(opts: DemoOptions, console: Console | None = None) -> list[dict[str, Any]]:
    console = console or Console(width=None if sys.stdout.isatty() else 150)
    data_dir = opts.data_dir.resolve()
    prepare_dir(data_dir)
    env = {
        "INVIGIL_DATA_DIR": str(data_dir),
        "INVIGIL_HEARTBEAT_INTERVAL_SECONDS": "5",
        "INVIGIL_OFFLINE_AFTER_SECONDS": "15",
        "INVIGIL_SWEEP_INTERVAL_SECONDS": "2",
        "INVIGIL_PORT": str(opts.port),
    }
    settings = Settings(data_dir=data_dir, port=opts.port)
    c = Container.from_settings(settings)
    passphrase = secrets.token_urlsafe(18)
    init = initialize(
        c,
        slug="demo",
        name="Demo University",
        region="eu-north",
        passphrase=passphrase,
        recovery_file=data_dir / "recovery-key.json",
        dpo_contact="dpo@demo.example",
    )
    start = utcnow() + timedelta(seconds=LEAD_SECONDS)
    end = start + timedelta(seconds=opts.minutes * 60)
    staff_rows, seats = [], []
    totp_secrets: dict[str, str] = {}
    with c.uow() as db:
        institution = db.get(Institution, init.institution_id)
        assert institution is not None
        people = {}
        for role in Role:
            password = accounts.generate_password()
            people[role] = accounts.create_staff(
                db, institution, f"{role.value}@demo.example", f"Demo {role.value}", role, password
            )
            key_passphrase = ""
            if role in (Role.INVIGILATOR, Role.REVIEWER):  # they will hold the exam's keys
                key_passphrase = secrets.token_urlsafe(12)
                db.flush()
                _give_key(db, people[role], key_passphrase, settings.kdf_iterations)
            secret, _ = twofactor.enrol_on_behalf(db, people[role], utcnow())
            staff_rows.append((role.value, f"{role.value}@demo.example", password, key_passphrase))
            totp_secrets[role.value] = secret
        exam = exams.create_exam(
            db,
            institution,
            title="Algorithms and Data Structures — final exam (demo)",
            starts_at=start,
            ends_at=end,
            timezone="Europe/Copenhagen",
            policy=demo_policy(opts.minutes),
            created_by=people[Role.COORDINATOR],
        )
        exams.assign(db, exam, people[Role.INVIGILATOR], Role.INVIGILATOR)
        exams.assign(db, exam, people[Role.REVIEWER], Role.REVIEWER)
        env.update(_analysis_account(db, institution, exam, data_dir, settings.kdf_iterations))
        # The coordinator's rule for this short demo: offline periods from 10 s on are worth a look.
        flag_rules.set_exam_rules(
            db, exam, {"network.offline": {"min_duration_seconds": 10}}, people[Role.COORDINATOR].id, utcnow()
        )
        names = [
            {
                "full_name": f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}",
                "student_number": f"S{100000 + i}",
            }
            for i in range(opts.candidates)
        ]
        issued = exams.add_candidates(db, exam, names)
        exam_id = exam.id
    c.close()
    behaviours = script(opts.candidates)
    seats = [Seat(i.pseudonym, i.code, b) for i, b in zip(issued, behaviours, strict=True)]
    pin = pins.generate()  # the coordinator seals on their own machine; the server never sees it
    sealed = seal_files(exam_id, pin, demo_assignment(data_dir / "coordinator", exam.title))

    console.print(f"\n[bold]Invigil demo[/bold] — data in {data_dir}")
    console.print(f"Recovery key file: {init.recovery_file}", soft_wrap=True)
    console.print(f"Recovery passphrase (shown once): [bold]{passphrase}[/bold]", soft_wrap=True)
    console.print("  (in production the file goes on offline media; see `invigil init`)")
    creds = Table(title="Staff accounts (passwords shown once)", header_style="bold")
    for col in ("role", "login (institution 'demo')", "password", "key passphrase"):
        creds.add_column(col)
    for row in staff_rows:
        creds.add_row(*row)
    console.print(creds)
    totp_table = Table(title="Two-factor login: TOTP secrets (shown once)", header_style="bold")
    for col in ("role", "TOTP secret (add it to an authenticator app)"):
        totp_table.add_column(col)
    for role_name, secret in totp_secrets.items():
        totp_table.add_row(role_name, secret)
    console.print(totp_table)
    console.print(
        f"Staff log in at http://127.0.0.1:{opts.port}/login with the password and the app's code "
        "(otpauth://totp/Invigil:<login>?secret=<secret>&issuer=Invigil).",
        soft_wrap=True,
    )
    console.print(
        "Open the evidence as the reviewer, on their side: "
        f"invigil evidence export --exam {exam_id} --as reviewer@demo.example --out ./opened",
        soft_wrap=True,
    )
    console.print(
        f"Exam {exam_id}: {opts.candidates} candidates, {opts.minutes:g} minutes, "
        f"tail {demo_policy(opts.minutes)['tail_period_seconds']} s",
        soft_wrap=True,
    )
    console.print(f"Exam PIN, announced at the start (opens the sealed assignment): [bold]{pin}[/bold]\n")

    server = _start_server(env, opts.port)
    # The lead counts from now: accounts, keys, sealing and the server's start took their time (on a
    # busy machine more than the lead itself, and an assignment cannot be uploaded once the exam runs).
    start, end = _reschedule(settings, exam_id, opts.minutes)
    url = f"http://127.0.0.1:{opts.port}"
    console.print(f"Server running at [bold]{url}[/bold] (API docs at {url}/docs)\n")
    logins = {r[0]: _login_body(r[1], r[2], totp_secrets[r[0]]) for r in staff_rows}
    try:
        rows = asyncio.run(
            _watch(url, exam_id, logins["coordinator"], seats, data_dir, start, end, console, (sealed, pin))
        )
        by_name = {s.pseudonym: s for s in seats}
        flags = _flag_counts(url, exam_id, logins["reviewer"])
        final = _table(rows, by_name, "Simulated class — final state (from the server)", flags)
        console.print(final)
        console.print(
            "flags: R red, Y yellow, G green — each asks the reviewer to look; none is a verdict.",
            soft_wrap=True,
        )
        if opts.svg:
            picture = Console(record=True, width=130, file=io.StringIO())
            picture.print(final)
            svg = picture.export_svg(title="invigil demo")
            opts.svg.write_text(re.sub(r",?\s*url\([^)]*\) format\([^)]*\)", "", svg))  # no web fonts
        summary = [
            {
                "candidate": r["candidate"],
                "state": r["state"],
                "items": r["items"],
                "bytes": r["bytes"],
                "offline_seconds": r["offline_seconds"],
                "last_heartbeat_at": r["last_heartbeat_at"],
                "handed_in_at": r["handed_in_at"],
                "offline_periods": r["offline_periods"],
                "assignment": _assignment(r),
                "scripted": by_name[r["candidate"]].behaviour.name,
                "agent_phase": by_name[r["candidate"]].status.phase,
                "flags": flags.get(r["candidate"], {}).get("counts", {}),
                "flag_behaviours": flags.get(r["candidate"], {}).get("behaviours", []),
            }
            for r in rows
        ]
        if opts.summary:
            opts.summary.write_text(json.dumps(summary, indent=2))
            console.print(f"Summary written to {opts.summary}")
        if not opts.exit_when_done:
            console.print(f"\nThe server keeps running at {url}. Press Ctrl-C to stop.")
            try:
                while server.poll() is None:
                    time.sleep(1)
            except KeyboardInterrupt:
                console.print("Stopping.")
        return summary
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


async def _watch(
    url: str,
    exam_id: str,
    login: dict[str, Any],
    seats: list[Seat],
    data_dir: Path,
    start: Any,
    end: Any,
    console: Console,
    assignment: tuple[Sealed, str],
) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        r = await http.post("/api/v1/staff/login", json=_with_code(login))
        r.raise_for_status()
        headers = {"Authorization": f"Bearer {r.json()['token']}"}
        sealed, announced = assignment  # the coordinator uploads, as `invigil assignment upload` does
        pin: str | None = announced
        try:
            await asyncio.to_thread(upload_assignment, url, r.json()["token"], exam_id, sealed)
            console.print(
                f"Sealed assignment uploaded ({', '.join(sealed.names)}); the server holds ciphertext only"
            )
        except Refused as exc:
            console.print(f"{exc} The class runs without an assignment.")
            pin = None

        async def board() -> list[dict[str, Any]]:
            resp = await http.get(f"/api/v1/staff/exams/{exam_id}/sessions", headers=headers)
            resp.raise_for_status()
            return list(resp.json()["sessions"])

        by_name = {s.pseudonym: s for s in seats}
        task = asyncio.create_task(run_class(seats, url, data_dir / "agents", start, end, pin))
        if console.is_terminal:
            with Live(console=console, refresh_per_second=1) as live:
                while not task.done():
                    left = max(0, (end - utcnow()).total_seconds())
                    live.update(_table(await board(), by_name, f"Simulated class — exam ends in {left:.0f}s"))
                    await asyncio.sleep(2)
        else:
            while not task.done():
                rows = await board()
                states: dict[str, int] = {}
                for row in rows:
                    states[row["state"]] = states.get(row["state"], 0) + 1
                items = sum(row["items"] for row in rows)
                console.print(
                    f"[{(utcnow() - start).total_seconds():5.0f}s] states {states}  items received {items}"
                )
                await asyncio.wait([task], timeout=10)
        await task
        # Let the sweeper settle the last states (e.g. the candidate who never came).
        for _ in range(30):
            rows = await board()
            if all(r["state"] in ("closed", "abandoned") for r in rows) or utcnow() > end + timedelta(
                seconds=60
            ):
                break
            await asyncio.sleep(1)
        return await board()
