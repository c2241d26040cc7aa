"""The simulated class: N agents, each the real pipeline (AgentRuntime) over real HTTP, with
scripted behaviours that make the run worth watching."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from invigil.agent.assignment import AssignmentError, NotReady, WrongPin
from invigil.agent.runtime import AgentRuntime, AgentStatus, policy_sources
from invigil.agent.sources.sample import (
    SampleAnswerDocument,
    SampleMicrophone,
    SampleProcesses,
    SampleScreen,
    SampleWebcam,
    group_photo,
    webcam_frames,
)
from invigil.kit.clock import utcnow
from invigil.protocol.policy import Policy
from invigil.sim.network import SwitchableTransport


@dataclass
class Behaviour:
    name: str = "normal"
    handin_at: float = 0.9  # fraction of the exam
    offline: tuple[float, float] | None = None  # fractions of the exam
    never_activates: bool = False
    wrong_code_first: bool = False
    wrong_pin_first: bool = False
    extra_programs: tuple[str, ...] = ()  # started during the exam (forbidden by the demo's policy)
    handin_text: str = ""  # the hand-in's text, when scripted (near-identical hand-ins)
    second_person: bool = False  # someone else is in the camera's view now and then
    looks_away: bool = False  # after the first frames, the eyes go left and right for a while
    talks: bool = False  # reads aloud now and then (the microphone's detection hears it)


# Two candidates hand in nearly the same essay: the worker's MinHash comparison flags the pair.
SHARED_ESSAY = " ".join(
    f"Answer {i}. Binary search halves the remaining interval at every step, so after k steps at most "
    f"n / 2^k candidates remain and the search ends after about log2(n) comparisons (case {i})."
    for i in range(30)
)


def script(n: int, seed: int = 7) -> list[Behaviour]:
    """The scripted class: the first eleven candidates do something worth noticing."""
    rng = random.Random(seed)
    out = [Behaviour(handin_at=rng.uniform(0.8, 0.95)) for _ in range(n)]
    special = [
        Behaviour("wrong code first", handin_at=0.9, wrong_code_first=True),
        Behaviour("loses the network", handin_at=0.92, offline=(0.25, 0.6)),
        Behaviour("hands in early", handin_at=0.45),
        Behaviour("never activates", never_activates=True),
        Behaviour("wrong PIN first", handin_at=0.85, wrong_pin_first=True),
        Behaviour("starts a forbidden program", handin_at=0.9, extra_programs=("discord",)),
        Behaviour("hands in a copy", handin_at=0.88, handin_text=SHARED_ESSAY),
        Behaviour("has a second person in view", handin_at=0.9, second_person=True),
        Behaviour("copies the copy", handin_at=0.93, handin_text=SHARED_ESSAY.replace("(case 3)", "(three)")),
        Behaviour("looks away", handin_at=0.9, looks_away=True),
        Behaviour("talks", handin_at=0.9, talks=True),
    ]
    for i, b in enumerate(special[:n]):
        out[i] = b
    return out


@dataclass
class Seat:
    pseudonym: str
    code: str
    behaviour: Behaviour
    status: AgentStatus = field(default_factory=AgentStatus)
    note: str = ""


def _webcam(seat: Seat, frames: list[bytes]) -> list[bytes]:
    """What this candidate's camera sees, frame after frame."""
    if seat.behaviour.second_person:
        return [x for f in frames for x in (f, group_photo())]
    if seat.behaviour.looks_away:
        away = webcam_frames("away")
        return [*frames, *(away * 3)[:5], *frames * 3]  # settles in, then glances left and right
    return frames


def _sources(seat: Seat, frames: list[bytes]) -> Callable[[Policy], list]:  # type: ignore[type-arg]
    def make(policy: Policy) -> list:  # type: ignore[type-arg]
        seen = _webcam(seat, frames)
        return policy_sources(
            policy,
            {
                "screenshot": lambda: SampleScreen(label=seat.pseudonym),
                "reference_photo": lambda: SampleWebcam(frames[:1], kind="reference_photo"),
                "webcam_frame": lambda: SampleWebcam(
                    seen, start=0 if seat.behaviour.looks_away else hash(seat.pseudonym) % len(seen)
                ),
                "audio_clip": lambda: SampleMicrophone(
                    policy.microphone.clip_seconds, talks=seat.behaviour.talks, seed=seat.pseudonym
                ),
                "process_snapshot": lambda: SampleProcesses(
                    extra=list(seat.behaviour.extra_programs), seed=seat.pseudonym
                ),
                "handin_backup": lambda: SampleAnswerDocument(seed=seat.pseudonym),
            },
        )

    return make


def reads_and_accepts(notice: dict[str, Any]) -> bool:
    """A simulated candidate reads the privacy notice (it names what the exam records) and accepts."""
    return bool(notice.get("version")) and bool(notice.get("sections"))


async def enter_pin(runtime: AgentRuntime, seat: Seat, pin: str, start: datetime, end: datetime) -> None:
    """At the start the invigilator announces the PIN and the candidate types it (a typo, if scripted)."""
    await asyncio.sleep(max(0.0, (start - utcnow()).total_seconds()) + random.uniform(0.5, 3.0))
    if seat.behaviour.wrong_pin_first:
        try:
            await runtime.assignment.open(pin[::-1])
        except WrongPin:
            seat.note = "wrong PIN, then right"
        except NotReady:
            pass
    while utcnow() < end:
        try:
            await runtime.assignment.open(pin)
            return
        except NotReady:  # still downloading, or the network is down: try again shortly
            await asyncio.sleep(2)
        except AssignmentError as exc:
            seat.note = f"assignment: {exc}"[:40]
            return


async def run_seat(
    seat: Seat,
    server: str,
    spool_root: Path,
    start: datetime,
    end: datetime,
    frames: list[bytes],
    pin: str | None = None,
) -> None:
    b = seat.behaviour
    length = (end - start).total_seconds()
    if b.never_activates:
        seat.status.phase, seat.note = "absent", "never came"
        return
    await asyncio.sleep(random.uniform(0, min(10.0, length * 0.05)))  # people arrive over a few seconds
    transport = SwitchableTransport()
    if b.wrong_code_first:
        wrong = AgentRuntime(
            server,
            spool_root / f"{seat.pseudonym}-wrong",
            "ZZZZ-ZZZZ-ZZZZ-ZZZZ",
            _sources(seat, frames),
            lambda: [],
            read_notice=reads_and_accepts,
        )
        result = await wrong.run()
        seat.note = "1st code refused" if "not valid" in result.error else f"refused: {result.error[:30]}"
    runtime = AgentRuntime(
        server,
        spool_root / seat.pseudonym,
        seat.code,
        _sources(seat, frames),
        lambda: [(b.handin_text or f"Answers of {seat.pseudonym}\n").encode() + b"x" * 2048],
        transport=transport,
        handin_after=None,
        read_notice=reads_and_accepts,
    )
    seat.status = runtime.status

    async def script_events() -> None:
        t0 = utcnow()
        if b.offline:
            await asyncio.sleep(max(0.0, b.offline[0] * length - (utcnow() - t0).total_seconds()))
            transport.up = False
            await asyncio.sleep((b.offline[1] - b.offline[0]) * length)
            transport.up = True
        await asyncio.sleep(max(0.0, (start - utcnow()).total_seconds() + b.handin_at * length))
        runtime.request_handin()

    helper = asyncio.create_task(script_events())
    typing = asyncio.create_task(enter_pin(runtime, seat, pin, start, end)) if pin else None
    try:
        await runtime.run()
    finally:  # also when the class is cancelled: nothing of this seat is left running
        helper.cancel()
        if typing:
            typing.cancel()
    if b.offline:
        seconds = sum((e - s).total_seconds() for s, e in runtime.status.offline_periods)
        seat.note = f"agent saw {seconds:.0f}s offline"


async def run_class(
    seats: list[Seat], server: str, spool_root: Path, start: datetime, end: datetime, pin: str | None = None
) -> None:
    frames = webcam_frames()
    await asyncio.gather(*(run_seat(s, server, spool_root, start, end, frames, pin) for s in seats))
