"""The simulated candidates: activate, then heartbeats, event batches and sealed screenshots."""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.agent.client import ProtocolError, TransientError
from invigil.kit import envelope
from invigil.kit.clock import iso, utcnow
from invigil.sim.load.options import LoadOptions
from invigil.sim.load.stats import Stats, error_kind
from invigil.sim.load.wire import ConnectionPool, WireClient

T = TypeVar("T")

EVENT_TYPES = ("window.focus_lost", "window.focus_gained", "process.started", "input.idle", "screen.changed")
AGENT_INFO = {"version": "loadtest", "platform": "simulated"}


class Run:
    """Shared state of one load run: options, timing, connections, statistics."""

    def __init__(self, opts: LoadOptions, url: str, deadline: float) -> None:
        self.opts, self.url, self.deadline = opts, url, deadline
        self.stop_retrying = deadline + opts.grace_seconds
        self.rng = random.Random(opts.seed)
        self.stats = Stats()
        self.payload = random.Random(opts.seed).randbytes(opts.screenshot_bytes)
        self.shared = ConnectionPool(url, opts.connections) if opts.connections > 0 else None

    def pool(self) -> ConnectionPool:
        """The shared pool, or a connection of the agent's own, like a real agent's machine."""
        return self.shared or ConnectionPool(self.url, 1)

    async def call(self, endpoint: str, request: Callable[[], Awaitable[T]]) -> T | None:
        """One protocol call with retries on transient errors; None if it never succeeded."""
        loop = asyncio.get_running_loop()
        for attempt in range(self.opts.max_retries + 1):
            started, at = time.perf_counter(), loop.time()
            try:
                result = await request()
            except (TransientError, ProtocolError) as exc:
                self.stats.attempt(endpoint, at, time.perf_counter() - started, error_kind(exc))
                if isinstance(exc, ProtocolError) or attempt == self.opts.max_retries:
                    break
                if loop.time() >= self.stop_retrying:
                    break
                self.stats.endpoints[endpoint].retries += 1
                await asyncio.sleep(min(8.0, 0.5 * 2**attempt) * self.rng.uniform(0.5, 1.5))
                continue
            self.stats.attempt(endpoint, at, time.perf_counter() - started)
            return result
        self.stats.endpoints[endpoint].gave_up += 1
        return None


class SimAgent:
    """One candidate: activate, then heartbeats, event batches and sealed screenshots until the end."""

    def __init__(self, run: Run, code: str) -> None:
        self.run, self.code = run, code
        self.tag = secrets.token_hex(4)
        self.counter = 0
        self.session_id: str | None = None
        self.attempted = 0
        self.acknowledged = 0
        self.seq = 0

    def _next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.tag}-{self.counter:06d}"

    async def main(self, arrive_at: float) -> None:
        await sleep_until(arrive_at)
        pool = self.run.pool()
        try:
            await self._work(WireClient(pool, self.run.opts.timeout_seconds))
        finally:
            if pool is not self.run.shared:
                pool.close()

    async def _work(self, client: WireClient) -> None:
        secret = secrets.token_urlsafe(32)
        mine = x25519.X25519PrivateKey.generate().public_key()  # the candidate's own key
        public = envelope.b64e(envelope.raw_public(mine))
        activation = await self.run.call(
            "activate", lambda: client.activate(self.code, secret, AGENT_INFO, public)
        )
        if activation is None:
            return
        client.authorize(secret)
        self.session_id = activation.session_id
        keys = [envelope.public_key_from_b64(activation.keys.keys["screen"].public_key), mine]
        opts, rng = self.run.opts, self.run.rng
        await asyncio.gather(
            self._every(lambda: opts.heartbeat_seconds, lambda: self._heartbeat(client)),
            self._every(lambda: opts.events_seconds, lambda: self._events(client)),
            self._every(
                lambda: rng.uniform(*opts.screenshot_seconds),
                lambda: self._screenshot(client, activation.exam.id, keys),
            ),
        )

    async def _every(self, interval: Callable[[], float], action: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + self.run.rng.uniform(0, interval())  # a random phase
        while due < self.run.deadline:
            await sleep_until(due)
            await action()
            due = max(due + interval(), loop.time())

    async def _heartbeat(self, client: WireClient) -> None:
        self.seq += 1
        seq, sent_at = self.seq, utcnow()
        await self.run.call("heartbeat", lambda: client.heartbeat(seq, sent_at))

    async def _events(self, client: WireClient) -> None:
        rng = self.run.rng
        at = iso(utcnow())
        events: list[dict[str, Any]] = [
            {
                "id": self._next_id("ev"),
                "type": rng.choice(EVENT_TYPES),
                "at": at,
                "severity": "info",
                "data": {"k": k},
            }
            for k in range(rng.randint(*self.run.opts.events_per_batch))
        ]
        answer = await self.run.call("events", lambda: client.events(events))
        if answer is not None and sum(answer) != len(events):
            self.run.stats.errors[f"events: answered {answer} for {len(events)}"] += 1

    async def _screenshot(self, client: WireClient, exam_id: str, keys: list[x25519.X25519PublicKey]) -> None:
        assert self.session_id is not None
        item_id = self._next_id("shot")
        ctx = envelope.Context(exam_id, self.session_id, item_id, "screenshot")
        sealed = envelope.seal_bytes(self.run.payload, ctx, keys)
        sha, captured = hashlib.sha256(sealed).hexdigest(), utcnow()
        self.attempted += 1
        status = await self.run.call(
            "evidence", lambda: client.put_evidence(item_id, "screenshot", sha, captured, sealed)
        )
        if status == "stored":
            self.acknowledged += 1
        elif status is not None:
            self.run.stats.errors[f"evidence: answered {status}"] += 1


async def sleep_until(when: float) -> None:
    delay = when - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)
