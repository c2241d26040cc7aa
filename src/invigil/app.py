"""create_app(settings): wiring only."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from invigil import __version__
from invigil.accounts.endpoints import router as staff_auth_router
from invigil.assignments.endpoints import router as assignments_router
from invigil.config import Settings
from invigil.container import Container
from invigil.evidence.endpoints import agent_router as evidence_agent_router
from invigil.evidence.endpoints import staff_router as evidence_staff_router
from invigil.exams.board_stream import router as board_stream_router
from invigil.exams.custody_endpoints import router as custody_router
from invigil.exams.endpoints import router as exams_router
from invigil.flags.endpoints import router as flags_router
from invigil.hotroutes import HotRoutes
from invigil.http import (
    BodyLimit,
    domain_error_handler,
    general_body_limit,
    storage_error_handler,
    validation_error_handler,
)
from invigil.jobs import Sweeper
from invigil.kit import signing
from invigil.kit.errors import DomainError
from invigil.kit.minimal import install_log_redaction
from invigil.portal.endpoints import router as portal_router
from invigil.privacy.endpoints import router as privacy_router
from invigil.privacy.request_endpoints import router as subject_requests_router
from invigil.retention.endpoints import router as retention_router
from invigil.review.endpoints import router as review_router
from invigil.sessions.endpoints import router as agent_router
from invigil.web import (
    admin_exams,
    admin_institution,
    admin_people,
    admin_privacy,
    board,
    browser,
    home,
    login,
    pages,
    portal,
    review_pages,
)

STATIC_DIR = Path(__file__).parent / "web" / "static"  # the browser's crypto module and other assets


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    c = container or Container.from_settings(settings or Settings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Fewer threads than anyio's 40: on a small node more only contend for the GIL and the
        # database pool (docs/adr/0010-group-commit-and-backpressure.md).
        to_thread.current_default_thread_limiter().total_tokens = c.settings.thread_pool_size
        sweeper = None
        if c.settings.run_jobs_in_process:
            sweeper = Sweeper(c, c.settings.sweep_interval_seconds)
            sweeper.start()
        try:
            yield
        finally:
            if sweeper:
                sweeper.stop()

    app = FastAPI(
        title="Invigil",
        version=__version__,
        description="Privacy-by-design proctoring. Agent protocol v1 and the staff API.",
        lifespan=lifespan,
        # No OpenTelemetry spans, metrics or logs from FastAPI: they would carry full client
        # addresses and paths (a portal link is a path) to whatever collector the environment
        # names, past the minimisation of our own logs (kit/minimal.py). It also spares every
        # request the check for a configured provider (environment lookups, ≈ 1.5 % of the
        # server's CPU under load).
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.container = c
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(OSError, storage_error_handler)
    app.add_exception_handler(browser.PageRefused, browser.refused_page)
    app.add_exception_handler(browser.LoginRequired, browser.login_required)
    # Heartbeats, events and uploads skip FastAPI's routing (hotroutes.py, ADR 0011); added first, so
    # that it runs inside BodyLimit and Starlette's error middleware.
    app.add_middleware(HotRoutes, container=c)
    app.add_middleware(BodyLimit, limit=general_body_limit(c.settings))
    for router in (
        agent_router,
        evidence_agent_router,
        staff_auth_router,
        exams_router,
        custody_router,
        evidence_staff_router,
        portal_router,
        assignments_router,
        flags_router,
        review_router,
        retention_router,
        privacy_router,
        subject_requests_router,
        board_stream_router,
        pages.router,
        portal.router,
        login.router,
        home.router,
        board.router,
        review_pages.router,
        admin_exams.router,
        admin_people.router,
        admin_privacy.router,
        admin_institution.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", tags=["meta"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/api/v1/receipt-key", tags=["meta"])
    def receipt_key(request: Request) -> dict[str, str]:
        """The public key that verifies hand-in receipts."""
        return {"algorithm": "Ed25519", "public_key": signing.public_b64(c.signer)}

    return app


SWITCH_INTERVAL = 0.001


def create_served_app() -> FastAPI:
    """The app as `invigil serve` runs it (one per worker process). Modules, routes and models live
    as long as the process: frozen, they stay out of every later garbage collection, whose pauses
    stall all requests at once."""
    app = create_app()
    install_log_redaction()  # in every worker process: no full IP address in any log line
    gc.collect()
    gc.freeze()
    # A thread coming back from the database waits up to the switch interval for the GIL (5 ms by
    # default) while request threads compute; the group-commit thread does that several times per
    # batch, and every queued request waits with it.
    sys.setswitchinterval(SWITCH_INTERVAL)
    return app
