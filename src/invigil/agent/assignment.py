"""The candidate's sealed assignment: downloaded at activation, kept in the spool, opened with the PIN.

- ``keep`` runs in the background from activation on. It downloads every sealed file, checks it
  against the manifest (SHA-256, exam, name, the PIN lock), keeps it under ``<spool>/assignment/``
  and tells the server "received". It retries while the network is down and looks again now and then
  until the exam starts, so a late upload or a replacement still arrives. Once it is stored, opening
  needs no network at all.
- ``open(pin)`` derives the key on this machine, opens every file into the work folder (all of them
  or none) and tells the server "opened". A wrong PIN raises ``WrongPin`` and the candidate simply
  tries again. The PIN is never stored, logged or sent anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import os
import random
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from invigil.agent.client import AgentClient, ProtocolError, TransientError
from invigil.agent.spool import Spool
from invigil.kit import pinseal
from invigil.kit.clock import utcnow
from invigil.kit.filenames import BadFileName, check_file_name
from invigil.kit.pinseal import AssignmentError, NotSealed, Tampered, WrongContext, WrongPin
from invigil.protocol import assignment as proto

log = logging.getLogger("invigil.agent.assignment")

__all__ = ["AssignmentError", "AssignmentKeeper", "NotReady", "Tampered", "WrongContext", "WrongPin"]

STATE_KEY = "assignment"
REFRESH_AFTER_START = timedelta(minutes=2)  # replacements are refused once the exam starts


class NotReady(AssignmentError):
    """There is no complete copy on this machine yet."""


@dataclass
class AssignmentState:
    phase: str = "waiting"  # waiting | none (the exam has none) | received (and reported) | opened
    files: list[Path] = field(default_factory=list)
    error: str = ""


class AssignmentKeeper:
    def __init__(
        self, client: AgentClient, spool: Spool, work_dir: Path, refresh_seconds: float = 60.0
    ) -> None:
        self.client, self.spool, self.work_dir = client, spool, Path(work_dir)
        self.folder = spool.folder / "assignment"
        self.refresh_seconds = refresh_seconds
        self.state = AssignmentState()
        self._lock = asyncio.Lock()
        self._exam_id: str | None = None
        self._starts_at: datetime | None = None
        self._reports: set[asyncio.Task[None]] = set()
        stored = self._stored()
        if stored is not None and stored.get("opened"):
            self.state.phase = "opened"
        elif stored is not None and "received" in stored.get("reported", []):
            self.state.phase = "received"

    # -- public ---------------------------------------------------------------------------------
    async def keep(self, exam_id: str, starts_at: datetime) -> None:
        """Download and keep the assignment; never raises (a background task of the agent)."""
        self._exam_id, self._starts_at = exam_id, starts_at
        stored = self._stored()
        if stored and stored.get("opened") and "opened" not in stored.get("reported", []):
            self._report_later("opened")  # the agent stopped before the server heard it
        delay = 1.0
        while True:
            try:
                async with self._lock:
                    await self._sync()
                delay, self.state.error = 1.0, ""
            except TransientError:
                self.state.error = "waiting for the network to download the assignment"
            except ProtocolError as exc:
                if exc.status in (401, 410):
                    return  # the session is over
                self.state.error = f"the server refused the assignment download: {exc.message}"
                log.warning("assignment download refused: %s", exc)
                delay = 30.0
            except AssignmentError as exc:
                self.state.error = f"{exc}; downloading it again"
                log.warning("assignment download damaged: %s", exc)
            if not self.state.error:
                if self.state.phase == "opened" or utcnow() > starts_at + REFRESH_AFTER_START:
                    return
                await asyncio.sleep(self.refresh_seconds)
                continue
            await asyncio.sleep(delay + random.random())
            delay = min(delay * 2, 30.0)

    async def open(self, pin: str) -> list[Path]:
        """Open the assignment with the exam PIN into the work folder; returns the files written."""
        async with self._lock:
            if self._exam_id and self._starts_at and utcnow() < self._starts_at + REFRESH_AFTER_START:
                # A replacement just before the start: take it if the network allows, else go on.
                with contextlib.suppress(TransientError, ProtocolError, AssignmentError, TimeoutError):
                    await asyncio.wait_for(self._sync(), 5)
            stored = self._stored()
            if stored is None:
                raise NotReady(
                    "The assignment has not been downloaded yet. Keep this computer connected to the "
                    "internet for a moment, then enter the PIN again."
                )
            paths = await asyncio.to_thread(self._open_all, stored, pin)
            self.spool.set(**{STATE_KEY: {**stored, "opened": True}})
            self.state.phase, self.state.files, self.state.error = "opened", paths, ""
        self._report_later("opened")
        return paths

    async def settle(self) -> None:
        """Wait for the reports still on their way."""
        if self._reports:
            await asyncio.gather(*self._reports, return_exceptions=True)

    def stop(self) -> None:
        """Give up on reports still waiting for the network (they are sent again on the next start)."""
        for task in list(self._reports):
            task.cancel()

    # -- download -------------------------------------------------------------------------------
    def _stored(self) -> dict[str, Any] | None:
        value = self.spool.get(STATE_KEY)
        return value if isinstance(value, dict) else None

    async def _sync(self) -> None:
        manifest = await self.client.assignment_manifest()
        if not manifest.available or manifest.digest is None:
            if self._stored() is None:
                self.state.phase = "none"
            return
        stored = self._stored()
        if stored is None or stored["manifest"]["digest"] != manifest.digest:
            assert self._exam_id is not None
            if stored is not None and stored.get("opened"):
                return  # already opened: what the candidate works on stays as it is
            blobs = [await self.client.assignment_file(info.index) for info in manifest.files]
            self._check(manifest, blobs)
            await asyncio.to_thread(self._keep_files, manifest, blobs)
            stored = {"exam_id": self._exam_id, "manifest": manifest.model_dump(mode="json"), "reported": []}
            self.spool.set(**{STATE_KEY: stored})
        if "received" not in stored.get("reported", []):
            await self.client.assignment_confirm("received", stored["manifest"]["digest"])
            self._mark_reported("received")
        if self.state.phase != "opened":
            self.state.phase = "received"  # kept here, and the server knows

    def _check(self, manifest: proto.AssignmentManifest, blobs: list[bytes]) -> None:
        lock = {"kdf": manifest.kdf, "salt": manifest.salt, "check": manifest.check}
        listing = []
        for info, data in zip(manifest.files, blobs, strict=True):
            sha = hashlib.sha256(data).hexdigest()
            if sha != info.sha256 or len(data) != info.size:
                raise Tampered(f"'{info.name}' arrived damaged (its SHA-256 does not match)")
            header = pinseal.read_header(io.BytesIO(data[: pinseal.PREFIX_MAX]))
            if header.exam_id != self._exam_id:
                raise WrongContext(f"'{info.name}' was sealed for another exam")
            if header.name != info.name:
                raise WrongContext(f"the file sealed as '{header.name}' was listed as '{info.name}'")
            if header.lock() != lock:
                raise Tampered(f"'{info.name}' is not locked the way the exam office's upload was")
            if header.expected_length != len(data):
                raise NotSealed(f"'{info.name}' does not have the length its header announces")
            listing.append((info.name, len(data), sha))
        if proto.digest(listing) != manifest.digest:
            raise Tampered("the list of assignment files does not match its digest")

    def _version_dir(self, digest: str) -> Path:
        return self.folder / digest[:32]

    def _keep_files(self, manifest: proto.AssignmentManifest, blobs: list[bytes]) -> None:
        assert manifest.digest is not None
        target = self._version_dir(manifest.digest)
        staging = self.folder / f".tmp-{manifest.digest[:32]}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for info, data in zip(manifest.files, blobs, strict=True):
            with open(staging / f"{info.index:03d}.sealed", "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        for old in self.folder.iterdir():  # an earlier, replaced version
            if old != target:
                shutil.rmtree(old, ignore_errors=True)

    # -- opening --------------------------------------------------------------------------------
    def _open_all(self, stored: dict[str, Any], pin: str) -> list[Path]:
        manifest = proto.AssignmentManifest.model_validate(stored["manifest"])
        assert manifest.digest is not None
        exam_id, folder = str(stored["exam_id"]), self._version_dir(manifest.digest)
        sources = [folder / f"{info.index:03d}.sealed" for info in manifest.files]
        if not sources:
            raise NotSealed("the assignment has no files")
        with open(sources[0], "rb") as fh:
            key = pinseal.unlock(pinseal.read_header(fh), pin)  # WrongPin: try again
        self.work_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".invigil-opening-", dir=self.work_dir))
        try:
            for info, src in zip(manifest.files, sources, strict=True):
                with open(src, "rb") as fin, open(staging / f"{info.index:03d}", "wb") as fout:
                    pinseal.open_stream(fin, fout, key, exam_id, info.name)
                    fout.flush()
                    os.fsync(fout.fileno())
            return [self._place(staging / f"{info.index:03d}", info.name) for info in manifest.files]
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _place(self, opened: Path, name: str) -> Path:
        """Move an opened file into the work folder: never outside it, never over the candidate's work."""
        try:
            check_file_name(name)
        except BadFileName as exc:
            raise WrongContext(str(exc)) from exc
        root = self.work_dir.resolve()
        target = (root / name).resolve()
        if target.parent != root:
            raise WrongContext(f"'{name[:60]}' would be written outside the work folder")
        n = 1
        while target.exists() and target.read_bytes() != opened.read_bytes():
            n += 1
            target = root / f"{Path(name).stem} (assignment {n}){Path(name).suffix}"
        os.replace(opened, target)
        return target

    # -- reports --------------------------------------------------------------------------------
    def _mark_reported(self, what: str) -> None:
        stored = self._stored()
        if stored is not None and what not in stored.get("reported", []):
            self.spool.set(**{STATE_KEY: {**stored, "reported": [*stored.get("reported", []), what]}})

    def _report_later(self, what: str) -> None:
        task = asyncio.create_task(self._report(what))
        self._reports.add(task)
        task.add_done_callback(self._reports.discard)

    async def _report(self, what: str) -> None:
        delay = 1.0
        while (stored := self._stored()) is not None:
            try:
                await self.client.assignment_confirm(what, stored["manifest"]["digest"])
                self._mark_reported(what)
                return
            except TransientError:
                await asyncio.sleep(delay + random.random())
                delay = min(delay * 2, 30.0)
            except ProtocolError as exc:
                log.warning("the server did not take the %s report: %s", what, exc)
                return
            except Exception as exc:  # a report must never crash the agent (e.g. its client was closed)
                log.warning("the %s report was not sent: %s", what, exc)
                return
