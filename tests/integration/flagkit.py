"""Helpers for the flags tests: the analysis account, sample activity, polling for flags."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.accounts.models import Role, Staff
from invigil.container import Container
from invigil.exams import service as exams
from invigil.exams.models import Exam
from invigil.kit.clock import iso, utcnow
from tests.factories import KEY_PASSPHRASE, Installation, add_staff, give_key

FORBIDDEN_POLICY: dict[str, Any] = {
    "process_snapshots": {"enabled": True, "interval_seconds": 5, "forbidden": ["discord", "*chatgpt*"]},
    "browser_history": {"enabled": True, "allowed_sites": ["uni.example"]},
    "tail_period_seconds": 0,
}
ESSAY = " ".join(
    f"Answer {i}: the algorithm halves the remaining input at each step, so it runs in logarithmic time "
    f"and the proof goes by induction over the size of part {i}."
    for i in range(40)
)


@dataclass
class AnalysisAccount:
    staff_id: str
    key: x25519.X25519PrivateKey
    passphrase_file: Path

    def settings_update(self) -> dict[str, Any]:
        return {"analysis_staff_id": self.staff_id, "analysis_passphrase_file": self.passphrase_file}


def analysis_account(inst: Installation, tmp: Path) -> AnalysisAccount:
    """The institution's worker account (ADR 0009): a reviewer with a key pair of its own."""
    staff_id = add_staff(inst, Role.REVIEWER, "analysis-worker@uni.example")
    key = give_key(inst, "reviewer", staff_id)
    path = tmp / "analysis-passphrase"
    path.write_text(KEY_PASSPHRASE + "\n")
    return AnalysisAccount(staff_id, key, path)


def assign_worker(c: Container, exam_id: str, staff_id: str) -> None:
    with c.uow() as db:
        exam, staff = db.get(Exam, exam_id), db.get(Staff, staff_id)
        assert exam is not None
        assert staff is not None
        exams.assign(db, exam, staff, Role.REVIEWER)


def processes(*extra: str) -> bytes:
    names = ["systemd", "libreoffice-writer", "firefox", *extra]
    procs = [{"pid": 100 + i, "name": n} for i, n in enumerate(names)]
    return json.dumps({"taken_at": iso(utcnow()), "processes": procs}).encode()


def events(*pairs: tuple[str, dict[str, Any]], prefix: str = "ev") -> dict[str, Any]:
    return {
        "events": [
            {"id": f"{prefix}-{i:04d}-{t.replace('.', '-')}", "type": t, "at": iso(utcnow()), "data": d}
            for i, (t, d) in enumerate(pairs)
        ]
    }


def wait_for(probe: Callable[[], Any], timeout: float = 30, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def behaviours(
    http: httpx.Client, headers: dict[str, str], session_id: str, source: str | None = None
) -> set[str]:
    r = http.get(f"/api/v1/staff/sessions/{session_id}/flags", headers=headers)
    assert r.status_code == 200, r.text
    return {f["behaviour"] for f in r.json()["flags"] if source is None or f["source"] == source}
