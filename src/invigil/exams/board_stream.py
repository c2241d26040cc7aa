"""The invigilator's live board as server-sent events: the board's rows (and, for those who may see
them, flag counts by colour) whenever they change, without reloading the page.

Access is checked when the stream opens (and logged once, as ``board.watch``) and again on every
tick: an invigilator's stream ends by itself when the exam window closes, their assignment is
revoked, or the login that opened it ends (logout, idle timeout, expiry; the stream's own ticks do
not count as activity). A comment line every 15 s keeps proxies from closing a quiet stream.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from invigil.accounts.endpoints import current_staff, login_check
from invigil.accounts.models import Staff
from invigil.container import Container
from invigil.exams import access, repository
from invigil.flags import repository as flags_repo
from invigil.flags import service as flags
from invigil.http import container
from invigil.kit.clock import iso, utcnow
from invigil.sessions import board

router = APIRouter(prefix="/api/v1/staff/exams", tags=["staff"])
TICK_SECONDS = 2.0
KEEPALIVE_SECONDS = 15.0
ENDED = "Your access to this exam's board has ended, or your login has."


LoginCheck = Callable[[Session, datetime], bool]


def snapshot(c: Container, staff_id: str, exam_id: str, logged_in: LoginCheck) -> dict[str, Any] | None:
    """The board as this person may see it now, or None when they may no longer see it."""
    now = utcnow()
    with c.uow() as db:
        if not logged_in(db, now):
            return None
        staff, exam = db.get(Staff, staff_id), repository.get(db, exam_id)
        if staff is None or exam is None or not access.allowed(db, staff, exam, access.Purpose.STATUS, now):
            return None
        rows = board.rows(db, exam.id, now)
        if access.allowed(db, staff, exam, access.Purpose.EVIDENCE, now):  # flags: not for coordinators
            by_session: dict[str, list[Any]] = {}
            for f in flags.preferred(flags_repo.flags_of_exam(db, exam.id)):
                by_session.setdefault(f.session_id, []).append(f)
            for row in rows:
                row["flags"] = flags.counts_by_severity(by_session.get(row["session_id"], []))
        return {"exam_id": exam.id, "at": iso(now), "sessions": rows}


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


async def _stream(request: Request, c: Container, staff_id: str, exam_id: str) -> AsyncIterator[bytes]:
    last, quiet = "", 0.0
    logged_in = login_check(request, c)
    while not await request.is_disconnected():
        board_now = await run_in_threadpool(snapshot, c, staff_id, exam_id, logged_in)
        if board_now is None:
            yield _event("end", {"reason": ENDED})
            return
        digest = hashlib.sha256(json.dumps(board_now["sessions"], sort_keys=True).encode()).hexdigest()
        if digest != last:
            last, quiet = digest, 0.0
            yield _event("board", board_now)
        elif quiet >= KEEPALIVE_SECONDS:
            quiet = 0.0
            yield b": still here\n\n"
        await asyncio.sleep(TICK_SECONDS)
        quiet += TICK_SECONDS


@router.get("/{exam_id}/board/stream")
def board_stream(
    exam_id: str, request: Request, staff: Staff = Depends(current_staff), c: Container = Depends(container)
) -> StreamingResponse:
    """Server-sent events: ``board`` (the rows, whenever they change) and ``end`` (access is over)."""
    now = utcnow()
    with c.uow() as db:
        exam = repository.get(db, exam_id)  # None: the same 403 as another exam's (access.require)
        access.require_logged(db, staff, exam, access.Purpose.STATUS, now, "board.watch")
    return StreamingResponse(
        _stream(request, c, staff.id, exam_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
