"""`invigil`: set up, serve, run jobs, demo, load test, key custody, export evidence, run an agent."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import locale
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from invigil.cli import analyze, assignment, audit, privacy, retention
from invigil.cli import keys as keys_cli
from invigil.config import Settings
from invigil.kit.minimal import install_log_redaction


def _passphrase(args: argparse.Namespace, confirm: bool) -> str:
    if getattr(args, "passphrase_file", None):
        return Path(args.passphrase_file).read_text().strip()
    if os.environ.get("INVIGIL_RECOVERY_PASSPHRASE"):
        return os.environ["INVIGIL_RECOVERY_PASSPHRASE"]
    if not sys.stdin.isatty():
        raise SystemExit("No terminal to ask for the passphrase: use --passphrase-file.")
    first = getpass.getpass("Recovery key passphrase: ")
    if confirm and getpass.getpass("Again: ") != first:
        raise SystemExit("The passphrases differ.")
    return first


def cmd_init(args: argparse.Namespace) -> int:
    from invigil.accounts import service as accounts
    from invigil.accounts.models import Role
    from invigil.container import Container
    from invigil.institutions.models import Institution
    from invigil.setup import initialize

    c = Container.from_settings(Settings())
    try:
        result = initialize(
            c,
            slug=args.institution,
            name=args.name,
            region=args.region,
            passphrase=_passphrase(args, confirm=True),
            recovery_file=Path(args.recovery_key_out),
            dpo_contact=args.dpo,
        )
    except (ValueError, FileExistsError) as exc:
        raise SystemExit(f"invigil init: {exc}") from exc
    password = accounts.generate_password()
    with c.uow() as db:
        institution = db.get(Institution, result.institution_id)
        assert institution is not None
        accounts.create_staff(db, institution, args.admin_email, "Administrator", Role.ADMIN, password)
    print(f"Institution '{args.institution}' created; database at {c.settings.effective_database_url}")
    print(f"Recovery key written to {result.recovery_file} (key id {result.recovery_kid[:16]}…).")
    print("  Move it to offline media now. Without it and its passphrase, sealed evidence")
    print("  cannot be opened by anyone, and Invigil cannot recover it for you.")
    print(f"Admin login: {args.admin_email}  password (shown once): {password}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from invigil.hotwire import HotWireProtocol

    settings = Settings()
    port = args.port or settings.port
    if args.workers > 1:
        uvicorn.run(
            "invigil.app:create_served_app",
            factory=True,
            host=settings.host,
            port=port,
            workers=args.workers,
            http=HotWireProtocol,
            log_level="warning",
            access_log=False,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    else:
        from invigil.app import create_served_app

        uvicorn.run(
            create_served_app(),
            host=settings.host,
            port=port,
            http=HotWireProtocol,
            log_level="warning",
            access_log=False,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from invigil.container import Container
    from invigil.jobs import Sweeper

    settings = Settings()
    c = Container.from_settings(settings)
    sweeper = Sweeper(c, settings.sweep_interval_seconds)
    print(f"invigil worker: sweeping every {settings.sweep_interval_seconds}s (Ctrl-C to stop)")
    consumer = _analysis_consumer(c, args.threads)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    sweeper.start()
    try:
        while True:
            sweeper.wait(3600)
    except KeyboardInterrupt:
        if consumer is not None:
            consumer.stop()
        sweeper.stop()
        c.close()
    return 0


def _analysis_consumer(c: Any, threads: int) -> Any:
    """With INVIGIL_ANALYSIS_QUEUE=redis, also consume analysis jobs from the broker (ADR 0009)."""
    from invigil.flags.queue import RedisQueue

    if c.settings.analysis_queue != "redis":
        return None
    jobs = c.jobs
    assert isinstance(jobs, RedisQueue)
    print(f"invigil worker: analysis jobs from {c.settings.redis_url} ({threads} threads)", flush=True)
    return jobs.consume(c, threads)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from invigil.migrate import upgrade

    upgrade(Settings().effective_database_url)
    print("database is at the newest schema")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from invigil.demo import DemoOptions, run_demo

    if args.candidates < 1 or args.minutes <= 0:
        raise SystemExit("--candidates must be at least 1 and --minutes more than 0")
    run_demo(
        DemoOptions(
            candidates=args.candidates,
            minutes=args.minutes,
            port=args.port,
            data_dir=Path(args.data_dir),
            exit_when_done=args.exit,
            summary=Path(args.summary) if args.summary else None,
            svg=Path(args.svg) if args.svg else None,
        )
    )
    return 0


def cmd_loadtest(args: argparse.Namespace) -> int:
    from invigil.sim.loadtest import LoadOptions, run_loadtest

    password = os.environ.get("INVIGIL_LOADTEST_PASSWORD", "")
    if args.staff_password_file:
        password = Path(args.staff_password_file).read_text().strip()
    report = run_loadtest(
        LoadOptions(
            candidates=args.candidates,
            minutes=args.minutes,
            server=args.server,
            json_out=args.json,
            ramp_seconds=args.ramp,
            workers=args.workers,
            connections=args.connections,
            exam_id=args.exam_id,
            codes_file=args.codes,
            institution=args.institution,
            staff_email=args.staff_email,
            staff_password=password,
        )
    )
    return 0 if report["lost"] == 0 and report["duplicates"] == 0 else 1


def cmd_agent_run(args: argparse.Namespace) -> int:
    from invigil.agent.program import handin_candidates
    from invigil.agent.runtime import AgentRuntime, policy_sources
    from invigil.agent.sources.sample import SampleAnswerDocument, SampleProcesses, SampleScreen, SampleWebcam

    def real(policy):  # type: ignore[no-untyped-def]
        from invigil.agent.sources.real import RealOptions, build_sources

        assert runtime.exam is not None  # sources are made after activation
        options = RealOptions(
            camera=camera_arg(args.camera),
            microphone_wav=Path(args.microphone_wav) if args.microphone_wav else None,
            handin_dir=handin_dir,
            exam_start=runtime.exam.starts_at,
            exam_end=runtime.exam.ends_at,
        )
        return policy_sources(policy, build_sources(policy, options))

    def sources(policy):  # type: ignore[no-untyped-def]
        if args.real:
            return real(policy)
        return policy_sources(
            policy,
            {
                "screenshot": lambda: SampleScreen(label=args.code, marker=args.marker),
                "webcam_frame": SampleWebcam,
                "process_snapshot": SampleProcesses,
                "handin_backup": SampleAnswerDocument,
            },
        )

    files = [Path(f) for f in args.handin_file]
    handin_dir = Path(args.handin_dir or Path(args.spool) / "hand-in").expanduser()
    runtime = AgentRuntime(
        args.server,
        Path(args.spool),
        args.code,
        sources,
        lambda: [f.read_bytes() for f in [*files, *handin_candidates(handin_dir)]] or [b"(empty hand-in)\n"],
        handin_after=args.handin_after,
        read_notice=lambda notice: read_notice_in_terminal(notice, args.accept_notice),
    )
    status = asyncio.run(runtime.run())
    print(
        f"agent {status.phase}: candidate {status.candidate}, {status.captured} captures"
        + (f"; {status.error}" if status.error else "")
    )
    if status.receipt:
        print(f"receipt: {status.receipt['portal_url']}")
        print(f"receipt secret (yours alone: it opens your own data; keep it): {status.receipt_secret}")
    return 0 if status.phase == "closed" else 1


def camera_arg(value: str | None) -> int | str | None:
    """``--camera``: a device index (0, 1, …) or a video file."""
    return int(value) if value and value.isdigit() else value


def cmd_agent(args: argparse.Namespace) -> int:
    """The candidate's program (agent/program.py) in a window, or in this terminal."""
    from invigil.agent.program import SAMPLE_LABEL, Options, Program, sample_sources

    camera = camera_arg(args.camera)
    options = Options(
        server=args.program_server,
        spool=Path(args.program_spool).expanduser() if args.program_spool else None,
        handin_dir=Path(args.handin_dir).expanduser() if args.handin_dir else None,
        camera=camera,
        microphone_wav=Path(args.microphone_wav) if args.microphone_wav else None,
        language=args.language or (locale.getlocale()[0] or "en").replace("_", "-"),
    )
    if args.sample_sources:
        program = Program(options, make_sources=sample_sources, label=SAMPLE_LABEL)
    else:
        program = Program(options)
    if args.headless:
        from invigil.agent.headless import run_headless

        return run_headless(program.start(), sys.stdin, sys.stdout)
    from invigil.agent.window import NoDisplay, run_window

    try:
        return run_window(program)
    except NoDisplay as exc:
        from invigil.agent.texts import t

        raise SystemExit(f"invigil agent: {exc} {t(program.lang, 'use_headless')}") from exc


def read_notice_in_terminal(notice: dict[str, Any], accepted_beforehand: bool) -> bool:
    """The headless agent shows the privacy notice and asks; --accept-notice answers for scripts."""
    from invigil.privacy.notice import markdown

    print(markdown(notice), flush=True)
    if accepted_beforehand:
        print("Accepted (--accept-notice).", flush=True)
        return True
    if not sys.stdin.isatty():
        print("No terminal to confirm the notice: run again with --accept-notice once you have read it.")
        return False
    return input(f"{notice['acknowledge']} [y/N] ").strip().lower() in ("y", "yes", "j", "ja")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="invigil", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help="create the database, the institution, its recovery key and an admin")
    s.add_argument("--institution", required=True, help="short name, e.g. 'au' (used at login)")
    s.add_argument("--name", required=True, help="full name, e.g. 'Aarhus University'")
    s.add_argument("--region", required=True, help="region label, e.g. 'eu-north'")
    s.add_argument("--admin-email", required=True)
    s.add_argument("--dpo", default="", help="data protection officer contact")
    s.add_argument("--recovery-key-out", required=True, help="where to write the recovery key file")
    s.add_argument("--passphrase-file", help="read the recovery passphrase from this file")
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("serve", help="run the API server (uvicorn)")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("worker", help="run background jobs (use with INVIGIL_RUN_JOBS_IN_PROCESS=false)")
    s.add_argument("--threads", type=int, default=2, help="analysis jobs run at once in this process")
    s.set_defaults(func=cmd_worker)

    s = sub.add_parser("db", help="database maintenance")
    dbsub = s.add_subparsers(dest="db_command", required=True)
    dbsub.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    s = sub.add_parser("demo", help="run a demo installation with a simulated class")
    s.add_argument("--candidates", type=int, default=30)
    s.add_argument("--minutes", type=float, default=3.0)
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--data-dir", default="./invigil-demo")
    s.add_argument("--exit", action="store_true", help="exit when the class is done")
    s.add_argument("--summary", help="write the final per-candidate table as JSON here")
    s.add_argument("--svg", help=argparse.SUPPRESS)  # the README's picture of the final table
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("loadtest", help="drive the protocol with many light simulated agents")
    s.add_argument("--candidates", type=int, default=1000)
    s.add_argument("--minutes", type=float, default=2.0)
    s.add_argument("--server", default="", help="an existing server; default: start one")
    s.add_argument("--ramp", type=float, default=10.0, help="seconds over which candidates arrive")
    s.add_argument("--json", help="write the report as JSON here")
    s.add_argument("--workers", type=int, default=1, help="server worker processes (own server only)")
    s.add_argument(
        "--connections",
        type=int,
        default=256,
        help="keep-alive connections shared by the agents, as behind a reverse proxy; 0: one per agent",
    )
    g = s.add_argument_group("with --server (127.0.0.1 only; codes work once)")
    g.add_argument("--exam-id", default="", help="the exam the codes belong to")
    g.add_argument("--codes", help="file with one unused activation code per line")
    g.add_argument("--institution", default="load", help="institution slug for the staff login")
    g.add_argument("--staff-email", default="coordinator@load.example", help="a coordinator's login")
    g.add_argument(
        "--staff-password-file", help="the coordinator's password (or set INVIGIL_LOADTEST_PASSWORD)"
    )
    s.set_defaults(func=cmd_loadtest)

    keys_cli.register(sub)

    assignment.add_parser(sub)
    analyze.add_parser(sub)
    audit.add_parser(sub)
    retention.add_parser(sub)
    privacy.add_parser(sub)
    privacy.add_portal_parser(sub)

    s = sub.add_parser(
        "agent", help="the candidate's program: a window, or --headless in a terminal (ADR 0020)"
    )
    s.add_argument("--headless", action="store_true", help="run in this terminal instead of a window")
    s.add_argument(
        "--server",
        dest="program_server",
        metavar="URL",
        default=os.environ.get("INVIGIL_AGENT_SERVER", ""),
        help="the exam server's address (default: INVIGIL_AGENT_SERVER); it can be typed in too",
    )
    s.add_argument("--camera", metavar="INDEX|FILE", help="camera index (0, 1, …) or a video file")
    s.add_argument(
        "--microphone-wav", metavar="FILE", help="a WAV file to use as the microphone (tests, demos)"
    )
    s.add_argument(
        "--handin-dir", metavar="FOLDER", help="the hand-in folder (default: ~/Invigil/<exam title>)"
    )
    s.add_argument(
        "--spool",
        dest="program_spool",
        metavar="FOLDER",
        help="where recordings wait for upload (default: ~/.invigil/agent)",
    )
    s.add_argument(
        "--language",
        default="",
        help="of the privacy notice and the program's words: en, da, de or sv (default: this computer's)",
    )
    s.add_argument(
        "--sample-sources", action="store_true", help="generated screen, webcam and programs (test mode)"
    )
    s.set_defaults(func=cmd_agent)
    asub = s.add_subparsers(dest="agent_command")
    a = asub.add_parser("run", help="scripted agent with sample sources (tests and scripts)")
    a.add_argument("--server", required=True)
    a.add_argument("--code", required=True)
    a.add_argument("--spool", required=True, help="spool folder (keep it to resume after a crash)")
    a.add_argument("--handin-after", type=float, default=None, help="hand in after this many seconds")
    a.add_argument("--handin-file", action="append", default=[])
    a.add_argument("--marker", default="", help="text drawn into sample screenshots (tests)")
    a.add_argument("--real", action="store_true", help="the real capture sources instead of sample ones")
    a.add_argument("--camera", metavar="INDEX|FILE", help="with --real: camera index or a video file")
    a.add_argument("--microphone-wav", metavar="FILE", help="with --real: a WAV file as the microphone")
    a.add_argument("--handin-dir", metavar="FOLDER", help="hand-in folder (default: <spool>/hand-in)")
    a.add_argument(
        "--accept-notice", action="store_true", help="accept the exam's privacy notice (it is printed first)"
    )
    a.set_defaults(func=cmd_agent_run)
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("INVIGIL_LOG_LEVEL", "WARNING"))
    install_log_redaction()  # no full IP address in any log line (kit/minimal.py)
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
