"""One candidate's agent from activation to stop: the pipeline shared by the simulated class and the
real agent. State lives in the spool, so a killed agent restarted on the same spool carries on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.agent.assignment import AssignmentKeeper
from invigil.agent.client import AgentClient, NoticeDeclined, NoticeReader, ProtocolError, TransientError
from invigil.agent.live import LivePass
from invigil.agent.sealer import Sealer
from invigil.agent.sources import EventSource, Source
from invigil.agent.spool import Spool
from invigil.agent.uploader import Connectivity, SessionEnded, Uploader
from invigil.kit import envelope
from invigil.kit.candidate_secret import secret_from_private
from invigil.kit.clock import iso, utcnow
from invigil.kit.keywrap import private_raw
from invigil.protocol import v1
from invigil.protocol.policy import Policy, parse_policy

log = logging.getLogger("invigil.agent")

Interval = Callable[[], float] | None  # seconds to the next capture; None: capture once, at the start
AnySource = Source | EventSource
SourceFactory = Callable[[Policy], list[tuple[AnySource, Interval]]]
HandinFactory = Callable[[], list[bytes]]


class ActivationRefused(Exception):
    """The server said no to the code (wrong, used, expired): the person must act."""


class NoticeNotAccepted(ActivationRefused):
    """The candidate declined the privacy notice: nothing starts, and the code is not used up."""


@dataclass
class AgentStatus:
    phase: str = "starting"  # starting | exam | tail | closing | closed | failed
    candidate: str = ""
    captured: int = 0
    receipt: dict[str, Any] | None = None
    receipt_secret: str = ""  # the candidate's private key, for them alone (kit/candidate_secret.py)
    error: str = ""
    warning: str = ""  # the last capture that failed (camera busy, no display), for the window to show
    offline_periods: list[tuple[datetime, datetime]] = field(default_factory=list)


def policy_sources(
    policy: Policy, make: Mapping[str, Callable[[], AnySource]]
) -> list[tuple[AnySource, Interval]]:
    """The sources a policy switches on, each with its randomized interval (None: once, at the start).

    ``make`` maps an evidence kind, or an event source's name (``focus``, ``display``, ``environment``,
    ``removable_storage``, ``clipboard``), to a factory; a kind missing from it is not captured. A
    source with an ``every`` attribute is polled at that interval instead (hand-in folder).
    """
    chosen: list[tuple[AnySource, Interval]] = []

    def between(lo: float, hi: float) -> Interval:
        return lambda: random.uniform(lo, hi)

    def add(kind: str, interval: Interval) -> None:
        if kind in make:
            source = make[kind]()
            every = getattr(source, "every", None)
            chosen.append((source, interval if every is None else between(every, every)))

    if policy.face_verification.enabled:
        add("reference_photo", None)  # the photo later frames are compared with (worker, opt-in)
    if policy.screenshots.enabled:
        i = policy.screenshots.interval
        add("screenshot", between(i.min_seconds, i.max_seconds))
    if policy.webcam.enabled:
        i = policy.webcam.interval
        clips = policy.webcam.mode == "clips" and "webcam_clip" in make
        add("webcam_clip" if clips else "webcam_frame", between(i.min_seconds, i.max_seconds))
    if policy.microphone.enabled:  # clip after clip; kept only in recording mode (policy.collects)
        add("audio_clip", between(policy.microphone.clip_seconds, policy.microphone.clip_seconds))
    if policy.process_snapshots.enabled:
        s = policy.process_snapshots.interval_seconds
        add("process_snapshot", between(s, s))
    if policy.browser_history.enabled:
        add("browser_history", between(120, 240))  # the visits since the last read
    if policy.handin_folder_backup.enabled:
        add("handin_backup", between(20, 40))  # a save every half minute or so
    # Facts without content, sent as events (ADR 0019). The policy has no switch of their own: they
    # come with process snapshots ("what the computer is doing"), removable storage with its own.
    if policy.process_snapshots.enabled:
        s = min(policy.process_snapshots.interval_seconds, 10)
        add("focus", between(1, 1))
        add("display", between(s, s))
        add("environment", between(s, s))
    if policy.removable_storage.mode != "ignore":
        add("removable_storage", between(2, 3))
    if policy.clipboard.clear_at_start_and_end:
        add("clipboard", None)  # cleared at the start; its finish() clears it again at the end
    return chosen


class AgentRuntime:
    def __init__(
        self,
        server_url: str,
        spool_dir: Path,
        code: str,
        sources: SourceFactory,
        handin_files: HandinFactory,
        transport: httpx.AsyncBaseTransport | None = None,
        agent_info: dict[str, str] | None = None,
        handin_after: float | None = None,
        work_dir: Path | None = None,
        read_notice: NoticeReader | None = None,
    ) -> None:
        self.server_url, self.code = server_url, code
        self.spool = Spool(spool_dir)
        self.client = AgentClient(server_url, transport=transport)
        self.net = Connectivity(self.spool)
        self.sources, self.handin_files = sources, handin_files
        self.agent_info = agent_info or {"agent": "invigil-agent/0.1"}
        self.status = AgentStatus()
        self.handin_requested = asyncio.Event()
        # Shows the exam's privacy notice and answers whether the candidate accepted it; without one,
        # activation stops with the server's request to read the notice first.
        self._read_notice = read_notice
        self._handin_after = handin_after
        self._session_over = asyncio.Event()
        # The sealed assignment; a UI enters the PIN with ``await runtime.assignment.open(pin)``.
        self.assignment = AssignmentKeeper(self.client, self.spool, work_dir or Path(spool_dir) / "work")
        # Set once the session runs (sealer ready): ``keep_capture`` may then add captures of its own.
        self.running = asyncio.Event()
        self.exam: v1.ExamInfo | None = None  # known once activated (the sources' exam window)
        self._sealer: Sealer | None = None
        self._uploader: Uploader | None = None

    # -- public ---------------------------------------------------------------------------------
    def request_handin(self) -> None:
        self.handin_requested.set()

    async def activate(self) -> v1.ActivateResponse:
        """Activate now, before ``run`` (the program does its system check in between); ``run`` then
        carries on from the activation kept in the spool. Raises ActivationRefused (NoticeNotAccepted
        when the candidate declined the privacy notice)."""
        return await self._activate()

    async def discard(self) -> None:
        """Release the client and the spool of a runtime that will never ``run`` (refused code)."""
        await self.client.aclose()
        self.spool.close()

    async def keep_capture(self, kind: str, plaintext: bytes) -> str:
        """Seal and spool a capture the candidate's program took itself (ID photo, room scan) while
        the session runs; returns its item id."""
        await self.running.wait()
        assert self._sealer is not None
        assert self._uploader is not None
        item_id = await asyncio.to_thread(self._spool_sealed, self._sealer, kind, plaintext)
        self.status.captured += 1
        self._uploader.wake.set()
        return item_id

    async def run(self) -> AgentStatus:
        try:
            await self._run()
        except ActivationRefused as exc:
            self.status.phase, self.status.error = "failed", str(exc)
        finally:
            self.status.offline_periods = list(self.net.periods)
            await self.client.aclose()
            self.spool.close()
        return self.status

    # -- activation -----------------------------------------------------------------------------
    async def _activate(self) -> v1.ActivateResponse:
        stored = self.spool.get("activation")
        if stored is not None:
            self.client.token = self.spool.get("session_secret")
            return v1.ActivateResponse.model_validate(stored)
        secret = self.spool.get("session_secret")
        if secret is None:  # persisted before asking, so a lost answer can be retried safely
            secret = secrets.token_urlsafe(32)
            # The candidate's own key pair. Its private half stays on this machine and on the receipt.
            candidate = x25519.X25519PrivateKey.generate()
            self.spool.set(session_secret=secret, candidate_key=envelope.b64e(private_raw(candidate)))
        public = envelope.b64e(envelope.raw_public(self._candidate_key().public_key()))
        while True:
            try:
                response = await self.client.activate(
                    self.code, secret, self.agent_info, public, read_notice=self._read_notice
                )
                break
            except TransientError:
                self.net.failed()
                await asyncio.sleep(1 + random.random())
            except NoticeDeclined as exc:
                raise NoticeNotAccepted(exc.message) from exc
            except ProtocolError as exc:
                raise ActivationRefused(exc.message) from exc
        self.net.succeeded()
        self.client.token = secret
        self.spool.set(activation=response.model_dump(mode="json"), phase="exam")
        self.spool.add_event(
            uuid.uuid4().hex, {"type": "agent.activated", "at": iso(utcnow()), "severity": "info"}
        )
        return response

    def _candidate_key(self) -> x25519.X25519PrivateKey:
        return x25519.X25519PrivateKey.from_private_bytes(envelope.b64d(self.spool.get("candidate_key")))

    # -- the session ----------------------------------------------------------------------------
    async def _run(self) -> None:
        act = await self._activate()
        self.status.candidate = act.candidate
        self.status.receipt_secret = secret_from_private(self._candidate_key())
        policy = self._policy = parse_policy(act.policy)
        self.exam = act.exam
        self._live = LivePass(policy)  # detectors on plaintext before sealing (agent/live.py)
        stored_keys = self.spool.get("keys")
        keys = v1.KeySet.model_validate(stored_keys) if stored_keys else act.keys
        sealer = Sealer(act.exam.id, act.session_id, keys, self._candidate_key().public_key())
        uploader = Uploader(
            self.client, self.spool, self.net, chunk_bytes=min(act.max_chunk_bytes, 1024 * 1024)
        )
        self._sealer, self._uploader = sealer, uploader
        stop_capture, stop_upload = asyncio.Event(), asyncio.Event()
        tasks = [
            self._supervised(self._heartbeats(act.heartbeat_interval_seconds, sealer), "heartbeats"),
            self._supervised(self._upload(uploader, stop_upload), "uploader"),
            self._supervised(self.assignment.keep(act.exam.id, act.exam.starts_at), "assignment"),
        ]
        captures = [
            self._supervised(self._capture_loop(src, interval, sealer, uploader, stop_capture), src.kind)
            for src, interval in self.sources(policy)
        ]
        self.running.set()
        flow = asyncio.create_task(
            self._flow(sealer, uploader, act, tasks[1], captures, stop_capture, stop_upload)
        )
        ended = asyncio.create_task(self._session_over.wait())
        try:
            await asyncio.wait([flow, ended], return_when=asyncio.FIRST_COMPLETED)
            if flow.done():
                flow.result()  # re-raise what went wrong in the main flow
            else:
                flow.cancel()
                self.status.phase = "failed" if self.status.error else "ended by server"
        finally:
            ended.cancel()
            flow.cancel()  # a no-op once it is done; stops it when this run itself is cancelled
            stop_capture.set()
            stop_upload.set()
            for task in [*tasks, *captures]:
                task.cancel()
            await asyncio.gather(flow, *tasks, *captures, return_exceptions=True)

    async def _flow(
        self,
        sealer: Sealer,
        uploader: Uploader,
        act: v1.ActivateResponse,
        upload_task: asyncio.Task[Any],
        captures: list[asyncio.Task[Any]],
        stop_capture: asyncio.Event,
        stop_upload: asyncio.Event,
    ) -> None:
        """Exam -> hand-in -> tail -> final upload -> close."""
        if self.spool.get("phase", "exam") == "exam":
            self.status.phase = "exam"
            await self._wait_for_handin(act.exam.ends_at)
            await self._handin(sealer, uploader)
        self.status.phase = "tail"
        self.status.receipt = self.spool.get("receipt")
        assert self.status.receipt is not None
        tail_end = datetime.fromisoformat(self.status.receipt["body"]["tail_ends_at"].replace("Z", "+00:00"))
        await self._until(tail_end)
        self.status.phase = "closing"
        stop_capture.set()
        await asyncio.gather(*captures, return_exceptions=True)
        self._spool_events(self._live.finish())
        stop_upload.set()
        await upload_task
        await self._close()
        self.status.phase = "closed"

    def _supervised(self, coro: Any, name: str) -> asyncio.Task[Any]:
        """A background task whose crash is logged and stops the agent, never silently lost."""
        task = asyncio.create_task(coro, name=name)

        def done(t: asyncio.Task[Any]) -> None:
            if not t.cancelled() and t.exception() is not None:
                log.error("agent task %s crashed", name, exc_info=t.exception())
                self.status.error = f"{name} crashed: {t.exception()!r}"
                self._session_over.set()

        task.add_done_callback(done)
        return task

    async def _until(self, when: datetime) -> None:
        while (left := (when - utcnow()).total_seconds()) > 0 and not self._session_over.is_set():
            await asyncio.sleep(min(left, 1.0))

    async def _wait_for_handin(self, exam_end: datetime) -> None:
        deadline = (
            exam_end
            if self._handin_after is None
            else min(exam_end, utcnow() + timedelta(seconds=self._handin_after))
        )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                self.handin_requested.wait(), max(0.0, (deadline - utcnow()).total_seconds())
            )

    async def _capture_loop(
        self,
        source: AnySource,
        interval: Interval,
        sealer: Sealer,
        uploader: Uploader,
        stop: asyncio.Event,
    ) -> None:
        try:
            await self._captures(source, interval, sealer, uploader, stop)
            await stop.wait()  # a source captured once at the start may still have its finish()
        finally:
            if stop.is_set() and (finish := getattr(source, "finish", None)) is not None:
                try:
                    self._spool_events(await asyncio.to_thread(finish) or [])
                except Exception as exc:
                    log.warning("%s could not finish: %s", source.kind, exc)

    async def _captures(
        self,
        source: AnySource,
        interval: Interval,
        sealer: Sealer,
        uploader: Uploader,
        stop: asyncio.Event,
    ) -> None:
        if interval is None and self.spool.get(f"captured_once:{source.kind}"):
            return  # a restarted agent does not take the start photo twice
        delay = random.uniform(0, min(3.0, interval() if interval else 3.0))
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            if stop.is_set():
                return
            if isinstance(source, EventSource):
                try:
                    self._spool_events(await asyncio.to_thread(source.poll))
                except Exception as exc:  # a desktop tool missing or hanging: try again next time
                    log.warning("%s check failed: %s", source.kind, exc)
                    self.status.warning = f"{source.kind} check failed: {exc}"
                if interval is None:
                    self.spool.set(**{f"captured_once:{source.kind}": True})
                    return
                delay = interval()
                continue
            try:
                plaintext = await asyncio.to_thread(source.capture)
            except Exception as exc:  # a camera unplugged or busy: this capture is lost, not the exam
                log.warning("%s capture failed: %s", source.kind, exc)
                self.status.warning = f"{source.kind} capture failed: {exc}"
                delay = interval() if interval else 5.0  # the start photo is tried again shortly
                continue
            if not plaintext:  # nothing new (a hand-in folder nobody saved in)
                delay = interval() if interval else 0.0
                if interval is None:
                    return
                continue
            try:
                await asyncio.to_thread(self._take, sealer, source.kind, plaintext)
            except OSError as exc:  # e.g. the candidate's disk is full: skip this capture, keep the rest
                log.error("could not store a %s capture: %s", source.kind, exc)
                self.status.error = f"could not store a {source.kind}: {exc.strerror or exc}"
                continue
            self.status.captured += 1
            uploader.wake.set()
            if interval is None:
                self.spool.set(**{f"captured_once:{source.kind}": True})
                return
            delay = interval()

    def _take(self, sealer: Sealer, kind: str, plaintext: bytes) -> None:
        """Seal and spool a capture the policy keeps; only analyse one it does not (microphone in
        detection mode: the sound never leaves the computer, only what was detected does)."""
        if self._policy.collects(kind):
            self._spool_sealed(sealer, kind, plaintext)
        else:
            self._spool_events(self._live.events(kind, plaintext, "", utcnow()))

    def _spool_sealed(self, sealer: Sealer, kind: str, plaintext: bytes) -> str:
        sealed = sealer.seal(kind, plaintext)
        self.spool.add_item(sealed.item_id, kind, utcnow(), sealed.data, sealed.sha256)
        self.spool.add_event(
            uuid.uuid4().hex,
            {"type": f"capture.{kind}", "at": iso(utcnow()), "data": {"item": sealed.item_id}},
        )
        self._spool_events(self._live.events(kind, plaintext, sealed.item_id, utcnow()))
        return sealed.item_id

    def _spool_events(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.spool.add_event(uuid.uuid4().hex, event)

    async def _heartbeats(self, interval: int, sealer: Sealer) -> None:
        while not self._session_over.is_set():
            hb = v1.Heartbeat(
                seq=time.time_ns() // 1_000_000,
                sent_at=utcnow(),
                phase="tail" if self.status.phase in ("tail", "closing") else "exam",
                spool_pending=self.spool.counts()["pending"],
            )
            try:
                ack = await self.client.heartbeat(hb)
                self.net.succeeded()
                if ack.key_generation != sealer.generation:
                    await self._new_keys(sealer)
            except TransientError:
                self.net.failed()
            except ProtocolError as exc:
                if exc.status == 401:
                    self._session_over.set()
                    return
                log.warning("heartbeat refused: %s", exc)
            await asyncio.sleep(interval)

    async def _new_keys(self, sealer: Sealer) -> None:
        """The exam's keys were rotated (someone's access was revoked): seal everything new to them."""
        keys = await self.client.keys()
        sealer.use(keys)
        self.spool.set(keys=keys.model_dump(mode="json"))
        log.info("exam keys rotated to generation %d", keys.generation)

    async def _upload(self, uploader: Uploader, stop: asyncio.Event) -> None:
        try:
            await uploader.run(stop)
        except SessionEnded as exc:
            log.warning("session ended by the server: %s", exc)
            self._session_over.set()

    async def _handin(self, sealer: Sealer, uploader: Uploader) -> None:
        items = self.spool.get("handin_items")
        if items is None:
            items = [
                await asyncio.to_thread(self._spool_sealed, sealer, "handin_file", data)
                for data in self.handin_files()
            ]
            self.spool.set(
                handin_items=items, handin_id=uuid.uuid4().hex, portal_token=secrets.token_urlsafe(32)
            )
            uploader.wake.set()
        request = v1.HandinRequest(
            handin_id=self.spool.get("handin_id"), items=items, portal_token=self.spool.get("portal_token")
        )
        while True:
            try:
                receipt = await self.client.handin(request)
                break
            except TransientError:
                await asyncio.sleep(1 + random.random())
            except ProtocolError as exc:
                if exc.status == 409 and "missing" in exc.body:  # files still on their way
                    await asyncio.sleep(0.5)
                    continue
                raise
        self.spool.set(receipt=receipt.model_dump(mode="json"), phase="tail")
        self.status.receipt = receipt.model_dump(mode="json")

    async def _close(self) -> None:
        for _ in range(600):
            try:
                await self.client.close()
                break
            except TransientError:
                await asyncio.sleep(1)
            except ProtocolError as exc:
                if exc.status == 401:  # the server closed it already (sweeper): fine
                    break
                if exc.status == 409:  # clock skew: the server's tail is a moment longer
                    await asyncio.sleep(1)
                    continue
                raise
        self._session_over.set()
        self.spool.set(phase="closed")
