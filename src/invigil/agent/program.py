"""The program a candidate runs, as one state machine that both views drive (ADR 0020).

The window (`agent/window.py`) and the terminal (`agent/headless.py`) only show the current
``Screen`` and call the actions below; every rule (what comes after what, what a wrong code or a
declined notice means, when hand-in is allowed, what the recording indicator says) lives here.

Steps, in order:

    connect → (notice) → checks → [id_photo] → [room_scan] → [pin] → recording
            → confirm_handin → handing_in → handed_in (tail countdown) → stopped
    connect → notice → declined          (nothing recorded; the code is not used up)

Recording starts when the candidate continues after the system check and stops by itself at the
end of the tail period. The state machine runs its own asyncio loop in a thread; actions may be
called from any thread and return at once; views read ``screen`` (or ``wait`` for the next one).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import importlib
import logging
import re
import shutil
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from invigil.agent import checks
from invigil.agent.assignment import AssignmentError, NotReady, WrongPin
from invigil.agent.runtime import ActivationRefused, AgentRuntime, NoticeNotAccepted, policy_sources
from invigil.agent.screens import RECORDING_NAMES, Screen, Step, receipt_text
from invigil.agent.sources import Source
from invigil.agent.texts import lang_of, t
from invigil.protocol import v1
from invigil.protocol.policy import Policy, parse_policy

log = logging.getLogger("invigil.agent.program")


MakeSources = Callable[[Policy], dict[str, Callable[[], Source]]]

SAMPLE_LABEL = t("en", "sample_label")  # shown in the candidate's language
ROOM_SCAN_FRAMES = 6
ROOM_SCAN_EVERY = 2.0  # seconds between the room scan's pictures


@dataclass(frozen=True)
class Options:
    server: str = ""
    spool: Path | None = None  # default: ~/.invigil/agent/<hash of the code>
    handin_dir: Path | None = None  # default: ~/Invigil/<exam title>
    camera: int | str | None = None  # an index or a video file (the real sources)
    microphone_wav: Path | None = None
    language: str = "en"  # of the notice and every word shown: en, da, de or sv (others: English)
    home: Path = field(default_factory=Path.home)


def handin_candidates(folder: Path) -> list[Path]:
    """The files a hand-in of the folder takes: its visible files, not subfolders."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def folder_name(title: str) -> str:
    return re.sub(r"[^\w\- ]+", "", title).strip()[:60] or "exam"


def code_key(code: str) -> str:
    """A spool folder per code, the same however the candidate typed it (the server forgives case,
    spaces and dashes)."""
    return hashlib.sha256(re.sub(r"[^0-9A-Z]", "", code.upper()).encode()).hexdigest()[:16]


def sample_sources(policy: Policy) -> dict[str, Callable[[], Source]]:
    """The generated sources of the simulated class, for test mode and the window's tests."""
    from invigil.agent.sources import sample

    clip = policy.microphone.clip_seconds
    return {
        "screenshot": lambda: sample.SampleScreen(label="test mode"),
        "webcam_frame": sample.SampleWebcam,
        "audio_clip": lambda: sample.SampleMicrophone(clip),
        "process_snapshot": sample.SampleProcesses,
        "handin_backup": sample.SampleAnswerDocument,
        "reference_photo": lambda: sample.SampleWebcam(kind="reference_photo"),
        "id_photo": lambda: sample.SampleWebcam(kind="id_photo"),
        "room_scan": lambda: sample.SampleWebcam(kind="room_scan"),
    }


def real_sources_module(lang: str = "en") -> Any:
    """invigil.agent.sources.real; its capture libraries come with ``pip install "invigil[agent]"``."""
    try:
        return importlib.import_module("invigil.agent.sources.real")
    except ImportError as exc:
        raise SystemExit(t(lang, "no_capture_libraries", why=exc)) from exc


def real_sources(real: Any, options: Options, exam: v1.ExamInfo, handin_dir: Path) -> MakeSources:
    real_options = real.RealOptions(
        camera=options.camera,
        microphone_wav=options.microphone_wav,
        handin_dir=handin_dir,
        screen_max_width=1280,
        exam_start=exam.starts_at,
        exam_end=exam.ends_at,
    )
    return lambda policy: dict(real.build_sources(policy, real_options))


class Program:
    def __init__(self, options: Options, make_sources: MakeSources | None = None, label: str = "") -> None:
        """``make_sources`` gives the capture sources for a policy (default: the real ones);
        ``label`` names other ones for the candidate (SAMPLE_LABEL for the sample sources)."""
        self.options = options
        self.lang = lang = lang_of(options.language)
        self._real: Any = None
        if make_sources is None:
            self._real = real_sources_module(lang)
        if label == SAMPLE_LABEL:
            label = t(lang, "sample_label")
        self._make_sources, self._label = make_sources, label
        self._screen = Screen(server=options.server, test_mode=label, lang=lang)
        self._changed = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="invigil-program", daemon=True)
        self._busy_action = False
        self._runtime: AgentRuntime | None = None
        self._policy: Policy | None = None
        self._make: dict[str, Callable[[], Source]] = {}
        self._notice_answer: asyncio.Future[bool] | None = None
        self._handin_dir = Path()
        self._handin_paths: list[Path] | None = None  # the chosen files; None: the hand-in folder
        self._handed: tuple[str, ...] = ()
        self._run_task: asyncio.Task[Any] | None = None
        self._watch_task: asyncio.Task[Any] | None = None

    # -- for views ------------------------------------------------------------------------------
    def start(self) -> Program:
        self._thread.start()
        return self

    @property
    def screen(self) -> Screen:
        return self._screen

    def wait(self, after: int, timeout: float | None = None) -> Screen:
        """The screen once its serial passes ``after`` (or the current one at the timeout)."""
        with self._changed:
            self._changed.wait_for(lambda: self._screen.serial > after, timeout)
            return self._screen

    def wait_for(self, *steps: Step, timeout: float = 60.0) -> Screen:
        """The first screen at one of ``steps`` and not busy (for headless views and tests)."""
        with self._changed:
            ok = self._changed.wait_for(lambda: self._screen.step in steps and not self._screen.busy, timeout)
            if not ok:
                raise TimeoutError(f"still at {self._screen.step!r} ({self._screen.message!r}), not {steps}")
            return self._screen

    def quit(self) -> None:
        """Stop everything: the window was closed. A session not yet handed in resumes from its spool
        when the program starts again with the same code."""

        async def stop() -> None:
            me = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not me]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._thread.is_alive():
            with contextlib.suppress(TimeoutError):
                asyncio.run_coroutine_threadsafe(stop(), self._loop).result(15)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        if not self._thread.is_alive() and not self._loop.is_closed():
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    # -- actions --------------------------------------------------------------------------------
    def connect(self, server: str, code: str) -> None:
        server, code = server.strip().rstrip("/"), code.strip()
        if self._screen.step != "connect":
            return
        if not server:
            self._set(tone="problem", message=self._t("need_server"), server=server)
            return
        if not re.match(r"^https?://", server):
            server = "https://" + server
        if len(re.sub(r"[^0-9A-Za-z]", "", code)) < 8:
            self._set(tone="problem", message=self._t("need_code"), server=server)
            return
        self._set(step="connecting", busy=self._t("busy_connecting"), message="", server=server)
        self._submit(self._connect(server, code))

    def accept_notice(self) -> None:
        self._answer_notice(True)

    def decline_notice(self) -> None:
        self._answer_notice(False)

    def check_again(self) -> None:
        if self._screen.step == "checks" and not self._screen.busy:
            self._set(busy=self._t("busy_checking"), message="")  # at once: a double press is one
            self._submit(self._checks())

    def continue_(self) -> None:
        """Go on from the system check, the ID photo or the room scan."""
        s = self._screen
        if s.busy:
            return
        if s.step == "checks" and s.can_continue:
            self._set(busy=self._t("busy_starting_recording"), message="")
            self._submit(self._start_recording())
        elif s.step == "id_photo" and s.photos > 0:
            self._set(busy=self._t("busy_one_moment"), message="")
            self._submit(self._after_id_photo())
        elif s.step == "room_scan" and s.photos >= ROOM_SCAN_FRAMES:
            self._set(busy=self._t("busy_one_moment"), message="")
            self._submit(self._to_pin())

    def take_photo(self) -> None:
        if self._screen.step == "id_photo" and not self._screen.busy:
            self._set(busy=self._t("busy_taking_photo"), message="")
            self._submit(self._take_id_photo())

    def scan_room(self) -> None:
        if self._screen.step == "room_scan" and not self._screen.busy:
            self._set(busy=self._t("busy_scanning"), message="")
            self._submit(self._scan_room())

    def enter_pin(self, pin: str) -> None:
        if self._screen.step == "pin" and not self._screen.busy:
            if not pin.strip():
                self._set(tone="problem", message=self._t("need_pin"))
                return
            self._set(busy=self._t("busy_opening_assignment"), message="")
            self._submit(self._open_assignment(pin.strip()))

    def ask_handin(self, files: list[Path] | None = None) -> None:
        """Hand in ``files``, or the hand-in folder's files: first the candidate confirms the list."""
        if self._screen.step != "recording":
            return
        chosen = [Path(f) for f in files] if files else handin_candidates(self._handin_dir)
        chosen = [f for f in chosen if f.is_file()]
        if not chosen:
            self._set(tone="problem", message=self._t("handin_empty", folder=self._handin_dir))
            return
        self._handin_paths = chosen
        self._set(
            step="confirm_handin",
            handin_files=tuple((f.name, f.stat().st_size) for f in chosen),
            message=self._t("handin_confirm"),
        )

    def cancel_handin(self) -> None:
        if self._screen.step == "confirm_handin":
            self._handin_paths = None
            self._set(step="recording", handin_files=(), message="")

    def confirm_handin(self) -> None:
        if self._screen.step == "confirm_handin" and self._runtime is not None:
            self._set(step="handing_in", busy=self._t("busy_handing_in"), message="")
            self._loop.call_soon_threadsafe(self._runtime.request_handin)

    # -- internals ------------------------------------------------------------------------------
    def _t(self, key: str, **params: object) -> str:
        """A message in the candidate's language (texts.py)."""
        return t(self.lang, key, **params)

    def _set(self, **changes: Any) -> None:
        if "message" in changes:
            changes.setdefault("tone", "info")
        with self._changed:
            self._screen = replace(self._screen, serial=self._screen.serial + 1, **changes)
            self._changed.notify_all()

    def _submit(self, coro: Coroutine[Any, Any, None]) -> None:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        future.add_done_callback(self._crashed)

    def _crashed(self, future: concurrent.futures.Future[None]) -> None:
        if future.cancelled() or future.exception() is None:
            return
        log.error("the agent program failed", exc_info=future.exception())
        self._set(
            step="failed", busy="", tone="problem", message=self._t("went_wrong", why=future.exception())
        )

    def _answer_notice(self, accepted: bool) -> None:
        answer = self._notice_answer
        if self._screen.step == "notice" and answer is not None:
            self._notice_answer = None
            self._set(
                busy=self._t("busy_starting") if accepted else "", step="connecting" if accepted else "notice"
            )
            self._loop.call_soon_threadsafe(_resolve, answer, accepted)

    async def _read_notice(self, notice: dict[str, Any]) -> bool:
        self._notice_answer = self._loop.create_future()
        self._set(step="notice", busy="", notice=notice, message="")
        return await self._notice_answer

    async def _connect(self, server: str, code: str) -> None:
        try:
            await asyncio.to_thread(httpx.get, server + "/healthz", timeout=10)
        except httpx.HTTPError:
            self._set(
                step="connect",
                busy="",
                tone="problem",
                message=self._t("unreachable", server=server),
            )
            return
        spool = self.options.spool or self.options.home / ".invigil" / "agent" / code_key(code)
        fresh = not spool.exists()
        runtime = AgentRuntime(
            server,
            spool,
            code,
            self._sources,
            self._handin_bytes,
            agent_info={"agent": "invigil-agent/0.1"},
            read_notice=self._read_notice,
        )
        runtime.client.language = self.options.language
        try:
            act = await runtime.activate()
        except ActivationRefused as exc:
            await runtime.discard()
            if fresh:  # nothing was activated: keep nothing of this attempt
                shutil.rmtree(spool, ignore_errors=True)
            if isinstance(exc, NoticeNotAccepted):
                self._set(
                    step="declined",
                    busy="",
                    message=self._t("declined"),
                )
            else:
                why = self._t("refused_try_again", why=exc)  # the server's words, then ours
                self._set(step="connect", busy="", tone="problem", message=why)
            return
        self._runtime = runtime
        self._policy = policy = parse_policy(act.policy)
        home = self.options.home / "Invigil"
        self._handin_dir = self.options.handin_dir or home / folder_name(act.exam.title)
        self._handin_dir.mkdir(parents=True, exist_ok=True)
        work = self._handin_dir.parent / f"{self._handin_dir.name} - assignment"
        runtime.assignment.work_dir = work
        make = self._make_sources or real_sources(self._real, self.options, act.exam, self._handin_dir)
        self._make = make(policy)
        self._set(
            exam_title=act.exam.title,
            exam_starts_at=act.exam.starts_at,
            exam_ends_at=act.exam.ends_at,
            handin_dir=str(self._handin_dir),
            assignment_dir=str(work),
            step="checks",
        )
        await self._checks()

    async def _checks(self) -> None:
        assert self._policy is not None
        assert self._runtime is not None
        policy, make, server, lang = self._policy, self._make, self._screen.server, self.lang
        self._set(busy=self._t("busy_checking"), message="")

        def run() -> list[checks.CheckResult]:
            found = []
            if policy.webcam.enabled:
                found.append(checks.camera(make.get("webcam_frame"), lang))
            if policy.microphone.enabled:
                found.append(checks.microphone(make.get("audio_clip"), lang))
            if policy.screenshots.enabled:
                found.append(checks.screen(make.get("screenshot"), lang))
            found.append(checks.disk(self._runtime.spool.folder if self._runtime else Path.home(), lang))
            found.append(checks.clock(server, lang))
            return found

        results = tuple(await asyncio.to_thread(run))
        preview = next((c.preview for c in results if c.preview), None)
        failed = [c.name for c in results if c.status == "fail"]
        message = self._t("checks_fix", names=", ".join(failed)) if failed else self._t("checks_ready")
        self._set(
            checks=results, preview=preview, busy="", message=message, tone="problem" if failed else "info"
        )

    def _sources(self, policy: Policy) -> list[Any]:
        chosen = policy_sources(policy, self._make)
        names = dict.fromkeys(
            self._t(RECORDING_NAMES[src.kind]) if src.kind in RECORDING_NAMES else src.kind
            for src, _ in chosen
        )
        self._set(recording=tuple(names))
        return chosen

    def _handin_bytes(self) -> list[bytes]:
        paths = self._handin_paths if self._handin_paths is not None else handin_candidates(self._handin_dir)
        self._handed = tuple(p.name for p in paths)  # read by the hand-in, in the loop's thread
        return [p.read_bytes() for p in paths]

    async def _start_recording(self) -> None:
        assert self._runtime is not None
        assert self._policy is not None
        self._run_task = asyncio.create_task(self._runtime.run())
        self._watch_task = asyncio.create_task(self._watch())
        await self._runtime.running.wait()
        if self._policy.id_check.enabled:
            self._set(step="id_photo", busy="", photos=0, preview=None, message="")
        elif self._policy.room_scan.enabled:
            self._set(step="room_scan", busy="", photos=0, preview=None, message="")
        else:
            await self._to_pin()

    async def _camera_picture(self, kind: str) -> bytes:
        make = self._make.get(kind) or self._make.get("webcam_frame")
        if make is None:
            raise RuntimeError(self._t("no_camera_source"))
        return await asyncio.to_thread(checks.capture_once, make)

    async def _take_id_photo(self) -> None:
        assert self._runtime is not None
        try:
            photo = await self._camera_picture("id_photo")
        except Exception as exc:  # the camera is the candidate's to fix; the exam goes on recording
            self._set(busy="", tone="problem", message=self._t("photo_failed", why=exc))
            return
        await self._runtime.keep_capture("id_photo", photo)
        self._set(
            busy="",
            preview=_thumbnail(photo),
            photos=self._screen.photos + 1,
            message=self._t("photo_kept"),
        )

    async def _after_id_photo(self) -> None:
        assert self._policy is not None
        if self._policy.room_scan.enabled:
            self._set(step="room_scan", busy="", photos=0, preview=None, message="")
        else:
            await self._to_pin()

    async def _scan_room(self) -> None:
        assert self._runtime is not None
        for n in range(1, ROOM_SCAN_FRAMES + 1):
            self._set(busy=self._t("busy_scan_picture", n=n, total=ROOM_SCAN_FRAMES))
            try:
                picture = await self._camera_picture("room_scan")
            except Exception as exc:
                self._set(busy="", photos=0, tone="problem", message=self._t("camera_stopped", why=exc))
                return
            await self._runtime.keep_capture("room_scan", picture)
            self._set(preview=_thumbnail(picture), photos=n)
            if n < ROOM_SCAN_FRAMES:
                await asyncio.sleep(ROOM_SCAN_EVERY)
        self._set(busy="", message=self._t("room_scan_done"))

    async def _to_pin(self) -> None:
        """The PIN step when the exam has an assignment; straight to the exam when it has none."""
        assert self._runtime is not None
        keeper = self._runtime.assignment
        self._set(busy=self._t("busy_looking_for_assignment"), preview=None, message="")
        for _ in range(100):  # the first download answers within seconds when the network is up
            if keeper.state.phase != "waiting":
                break
            await asyncio.sleep(0.1)
        if keeper.state.phase == "none":
            self._set(step="recording", busy="")
        elif keeper.state.phase == "opened":
            self._set(step="recording", busy="", assignment_files=tuple(p.name for p in keeper.state.files))
        else:
            waiting = keeper.state.phase == "waiting"  # not downloaded yet; the detail is technical
            message = self._t("assignment_not_ready") if waiting else ""
            if keeper.state.error:
                message = f"{message} ({keeper.state.error})".strip()
            self._set(step="pin", busy="", tone="problem", message=message)

    async def _open_assignment(self, pin: str) -> None:
        assert self._runtime is not None
        try:
            files = await self._runtime.assignment.open(pin)
        except AssignmentError as exc:  # what to do, in the candidate's words
            self._set(busy="", tone="problem", message=self._assignment_problem(exc))
            return
        self._set(
            step="recording",
            busy="",
            assignment_files=tuple(p.name for p in files),
            message=self._t("assignment_open", folder=self._runtime.assignment.work_dir),
        )

    def _assignment_problem(self, exc: AssignmentError) -> str:
        if isinstance(exc, WrongPin):
            return self._t("pin_wrong")
        if isinstance(exc, NotReady):
            return self._t("assignment_not_ready")
        return self._t("assignment_damaged", why=exc)  # the detail (which file, how) is technical

    async def _watch(self) -> None:
        """Follow the running session: the receipt (hand-in by the candidate or at the exam's end),
        the end of the tail period, and failures."""
        assert self._runtime is not None
        assert self._run_task is not None
        status = self._runtime.status
        while not self._run_task.done():
            if status.receipt is not None and self._screen.step not in ("handed_in", "stopped"):
                self._handed_in()
            await asyncio.sleep(0.2)
        status = self._run_task.result()
        if status.receipt is not None and self._screen.step != "handed_in":
            self._handed_in()
        if status.phase == "closed":
            self._set(
                step="stopped",
                busy="",
                recording=(),
                message=self._t("stopped"),
            )
        else:
            why = status.error or self._t("session_phase", phase=status.phase)
            self._set(
                step="failed",
                busy="",
                recording=(),
                tone="problem",
                message=self._t("failed", why=why),
            )

    def _handed_in(self) -> None:
        assert self._runtime is not None
        status = self._runtime.status
        receipt = status.receipt or {}
        tail = datetime.fromisoformat(str(receipt["body"]["tail_ends_at"]).replace("Z", "+00:00"))
        shown = replace(
            self._screen, receipt=receipt, receipt_secret=status.receipt_secret, handed_files=self._handed
        )
        path = self._handin_dir.parent / f"{self._handin_dir.name} - receipt.txt"
        try:  # a copy to keep, readable by this user only: the secret opens their own data
            path.touch(mode=0o600)
            path.write_text(receipt_text(shown))
        except OSError as exc:
            log.warning("could not save the receipt: %s", exc)
            path = Path()
        self._set(
            step="handed_in",
            busy="",
            receipt=receipt,
            receipt_secret=status.receipt_secret,
            receipt_file=str(path) if path.name else "",
            handed_files=self._handed,
            tail_ends_at=tail,
            handin_files=(),
            message=self._t("handed_in"),
        )


def _resolve(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _thumbnail(jpeg: bytes) -> bytes | None:
    import io

    from PIL import Image

    try:
        img = Image.open(io.BytesIO(jpeg)).convert("RGB")
    except Exception:
        return None
    img.thumbnail((320, 240))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()
