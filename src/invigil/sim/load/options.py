"""The options of a load run and the installation it targets."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INSTITUTION = "load"
COORDINATOR = "coordinator@load.example"
LOAD_POLICY: dict[str, Any] = {
    "screenshots": {"enabled": True, "interval": {"min_seconds": 30, "max_seconds": 60}},
    "tail_period_seconds": 0,
}


@dataclass
class LoadOptions:
    candidates: int = 1000
    minutes: float = 2.0
    server: str = ""
    json_out: str | Path | None = None
    ramp_seconds: float = 10.0
    workers: int = 1
    # Keep-alive connections shared by all simulated agents, as behind a reverse proxy; 0 gives
    # every agent its own connection, as when agents connect to the server directly.
    connections: int = 256
    # The realistic mix; tests shorten the intervals so that a short run exercises every endpoint.
    heartbeat_seconds: float = 10.0
    events_seconds: float = 10.0
    events_per_batch: tuple[int, int] = (1, 5)
    screenshot_seconds: tuple[float, float] = (30.0, 60.0)
    screenshot_bytes: int = 150 * 1024
    # Client behaviour.
    timeout_seconds: float = 30.0
    max_retries: int = 5
    grace_seconds: float = 60.0
    seed: int | None = None
    quiet: bool = False
    # Own installation: None reads INVIGIL_DATABASE_URL; "" is SQLite; a PostgreSQL URL names the
    # server on which a fresh database is created (and dropped) for the run.
    database_url: str | None = None
    # --server mode.
    exam_id: str = ""
    codes_file: str | Path | None = None
    institution: str = INSTITUTION
    staff_email: str = COORDINATOR
    staff_password: str = ""


@dataclass
class Target:
    """Where the load goes and how to check the result afterwards."""

    url: str
    exam_id: str
    codes: list[str]
    login: dict[str, str]
    backend: str
    server: subprocess.Popen[bytes] | None = None
    server_log: Path | None = None
