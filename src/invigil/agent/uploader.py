"""Moves the spool to the server: events in batches, items whole or in resumable chunks.

Never drops an item before the server acknowledged it; never sends one twice in a way the server
would count twice (uploads are idempotent by item id). Backs off on network loss and records
offline periods as the agent saw them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Callable
from datetime import datetime

from invigil.agent.client import AgentClient, ProtocolError, TransientError
from invigil.agent.spool import Spool, SpooledItem
from invigil.kit.clock import iso, utcnow
from invigil.protocol import v1

log = logging.getLogger("invigil.agent.uploader")


class SessionEnded(Exception):
    """The server no longer accepts this session's token."""


class Connectivity:
    """Online/offline as the agent experiences it; an offline period becomes an event."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self.offline_since: datetime | None = None
        self.periods: list[tuple[datetime, datetime]] = []
        self.restored = asyncio.Event()  # set when the network comes back (wakes the uploader)

    @property
    def online(self) -> bool:
        return self.offline_since is None

    def failed(self) -> None:
        if self.offline_since is None:
            self.offline_since = utcnow()
            log.info("network lost")

    def succeeded(self) -> None:
        if self.offline_since is not None:
            start, end = self.offline_since, utcnow()
            self.offline_since = None
            self.restored.set()
            self.periods.append((start, end))
            self.spool.add_event(
                uuid.uuid4().hex,
                {
                    "type": "network.offline",
                    "at": iso(start),
                    "severity": "info",
                    "data": {"until": iso(end), "seconds": round((end - start).total_seconds(), 1)},
                },
            )
            log.info("network back after %.1fs", (end - start).total_seconds())


class Uploader:
    def __init__(
        self,
        client: AgentClient,
        spool: Spool,
        connectivity: Connectivity,
        chunk_bytes: int = 1024 * 1024,
        max_backoff: float = 30.0,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        self.client, self.spool, self.net = client, spool, connectivity
        self.chunk_bytes, self.max_backoff = chunk_bytes, max_backoff
        self.on_progress = on_progress
        self.wake = asyncio.Event()
        self._backoff = 0.5

    async def run(self, stop: asyncio.Event) -> None:
        """Upload until ``stop`` is set and the spool is empty (or the session ended)."""
        while True:
            try:
                moved = await self.drain_once()
                self.net.succeeded()
                self._backoff = 0.5
            except TransientError as exc:
                self.net.failed()
                delay = self._backoff * (0.5 + random.random())
                self._backoff = min(self._backoff * 2, self.max_backoff)
                log.debug("upload paused %.1fs: %s", delay, exc)
                await self._sleep(delay, stop, ignore_stop=True)
                continue
            counts = self.spool.counts()
            if stop.is_set() and counts["pending"] == 0 and counts["events_pending"] == 0:
                return
            if not moved:
                await self._sleep(1.0, stop)

    async def _sleep(self, seconds: float, stop: asyncio.Event, ignore_stop: bool = False) -> None:
        self.wake.clear()
        waiters = [asyncio.ensure_future(self.wake.wait())]
        if not self.net.online:  # no await between check and clear: the restore cannot slip through
            self.net.restored.clear()
            waiters.append(asyncio.ensure_future(self.net.restored.wait()))
        if not ignore_stop:
            waiters.append(asyncio.ensure_future(stop.wait()))
        _done, pending = await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()

    async def drain_once(self) -> int:
        """One pass: all pending events, then pending items. Returns how many things moved."""
        moved = 0
        while events := self.spool.pending_events(200):
            batch = v1.EventBatch(events=[v1.AgentEvent.model_validate(e) for e in events])
            await self.client.events(batch)
            self.spool.events_acked([e["id"] for e in events])
            moved += len(events)
        for item in self.spool.pending_items(50):
            await self.upload(item)
            moved += 1
            if self.on_progress:
                self.on_progress()
        return moved

    async def upload(self, item: SpooledItem) -> None:
        data = self.spool.read_item(item.item_id)
        self.spool.attempted(item.item_id)
        try:
            if item.size <= self.chunk_bytes:
                status = await self.client.put_evidence(
                    item.item_id, item.kind, item.sha256, item.size, item.captured_at, data
                )
            else:
                status = await self._chunked(item, data)
        except ProtocolError as exc:
            if exc.status == 401:
                raise SessionEnded(exc.message) from exc
            log.warning("server refused %s %s: %s", item.kind, item.item_id, exc)
            self.spool.rejected(item.item_id, str(exc))
            return
        if status.status == "stored":
            self.spool.acked(item.item_id)

    async def _chunked(self, item: SpooledItem, data: bytes) -> v1.UploadStatus:
        offset = 0
        if item.attempts > 0:  # resume where the server says it is
            offset = (await self.client.upload_status(item.item_id)).received
        status = v1.UploadStatus(item_id=item.item_id, status="partial", received=offset)
        while offset < item.size:
            part = data[offset : offset + self.chunk_bytes]
            try:
                status = await self.client.put_evidence(
                    item.item_id, item.kind, item.sha256, item.size, item.captured_at, part, start=offset
                )
            except ProtocolError as exc:
                if exc.status == 409 and "received" in exc.body:
                    offset = int(exc.body["received"])  # the server has more (or less) than we thought
                    continue
                raise
            if status.status == "stored":
                return status
            offset = status.received
        return status
