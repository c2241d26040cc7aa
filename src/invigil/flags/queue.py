"""Where analysis jobs go: a thread in the server (embedded default), or a Redis queue that
`invigil worker` processes consume with Dramatiq (at scale: more worker processes, more throughput).

Jobs are ``(name, id)``: ``("item", evidence item id)``, ``("session", session id)``,
``("stream", session id)`` (webcam frames in order, when the session ends), ``("handins", exam id)``.
Enqueueing never fails the request that triggered it: a lost job is logged, and the next one for the
same session or exam catches up (every job is idempotent).
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Any, Protocol

from invigil.config import Settings

if TYPE_CHECKING:
    from invigil.container import Container
    from invigil.flags.opener import EvidenceOpener

log = logging.getLogger("invigil.analysis")
JOBS = ("item", "session", "stream", "handins")
QUEUE_NAME = "invigil-analysis"
TIME_LIMIT_MS = 5 * 60 * 1000


class JobQueue(Protocol):
    def enqueue(self, job: str, arg: str) -> None: ...

    def close(self) -> None: ...


class Runner:
    """Runs one job against an installation; holds the worker's opener once it is unlocked."""

    def __init__(self, c: Container) -> None:
        self.c = c
        self._opener: EvidenceOpener | None = None
        self._opener_loaded = False
        self._lock = threading.Lock()

    def opener(self) -> EvidenceOpener | None:
        with self._lock:
            if not self._opener_loaded:
                from invigil.flags.opener import opener_from_settings

                with self.c.uow() as db:
                    self._opener = opener_from_settings(db, self.c.settings, self.c.store)
                self._opener_loaded = True
            return self._opener

    def run(self, job: str, arg: str) -> int:
        from invigil.flags import tasks

        if job == "item":
            return tasks.analyse_item(self.c, arg, self.opener())
        if job == "session":
            return tasks.analyse_session(self.c, arg)
        if job == "stream":
            return tasks.analyse_stream(self.c, arg, self.opener())
        if job == "handins":
            return tasks.analyse_handins(self.c, arg, self.opener())
        raise ValueError(f"unknown analysis job {job!r}")


class NoQueue:
    """Analysis switched off (INVIGIL_ANALYSIS_QUEUE=off)."""

    def enqueue(self, job: str, arg: str) -> None:
        return None

    def close(self) -> None:
        return None


class InProcessQueue:
    """One background thread; a job already waiting is not queued twice."""

    def __init__(self, c: Container) -> None:
        self._runner = Runner(c)
        self._q: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._pending: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.idle = threading.Event()
        self.idle.set()

    def enqueue(self, job: str, arg: str) -> None:
        with self._lock:
            if (job, arg) in self._pending:
                return
            self._pending.add((job, arg))
            self.idle.clear()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="invigil-analysis", daemon=True)
                self._thread.start()
        self._q.put((job, arg))

    def _loop(self) -> None:
        while (entry := self._q.get()) is not None:
            with self._lock:
                self._pending.discard(entry)
            try:
                self._runner.run(*entry)
            except Exception:  # one failed job must not stop the thread; the next job retries the work
                log.exception("analysis job %s failed", entry)
            with self._lock:
                if not self._pending:
                    self.idle.set()

    def close(self) -> None:
        if self._thread is not None:
            self._q.put(None)
            self._thread.join(timeout=10)


class RedisQueue:
    """Dramatiq on Redis. The server only sends; `invigil worker` processes consume (``consume``)."""

    def __init__(self, settings: Settings) -> None:
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker

        self.broker = RedisBroker(url=settings.redis_url, namespace=settings.queue_namespace)
        self.runner: Runner | None = None
        self.actor: Any = dramatiq.actor(
            broker=self.broker,
            actor_name="analyse",
            queue_name=QUEUE_NAME,
            time_limit=TIME_LIMIT_MS,
            max_retries=5,
            min_backoff=1000,
        )(self._perform)

    def _perform(self, job: str, arg: str) -> None:
        if self.runner is None:
            raise RuntimeError("this process only sends analysis jobs; run `invigil worker` to process them")
        self.runner.run(job, arg)

    def enqueue(self, job: str, arg: str) -> None:
        if job not in JOBS:
            raise ValueError(f"unknown analysis job {job!r}")
        try:
            self.actor.send(job, arg)
        except Exception:  # the broker is down: the upload still succeeds; later jobs catch up
            log.exception("could not queue analysis job %s %s", job, arg)

    def consume(self, c: Container, threads: int) -> Any:
        import dramatiq

        self.runner = Runner(c)
        worker = dramatiq.Worker(self.broker, queues={QUEUE_NAME}, worker_threads=threads)
        worker.start()
        return worker

    def close(self) -> None:
        self.broker.close()


def queue_for(c: Container) -> JobQueue:
    mode = c.settings.analysis_queue
    if mode == "redis":
        return RedisQueue(c.settings)
    if mode == "off":
        return NoQueue()
    return InProcessQueue(c)


def enqueue(c: Container, job: str, arg: str) -> None:
    """The one call an endpoint makes after its unit of work has committed."""
    try:
        c.jobs.enqueue(job, arg)
    except Exception:  # analysis must never break the agent protocol
        log.exception("could not queue analysis job %s %s", job, arg)
