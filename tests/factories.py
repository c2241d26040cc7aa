"""Builders for test data: an installation, an exam with candidates, a running server."""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.accounts import service as accounts
from invigil.accounts import twofactor
from invigil.accounts.models import Role
from invigil.app import create_app
from invigil.container import Container
from invigil.exams import service as exams
from invigil.hotwire import HotWireProtocol
from invigil.institutions.models import Institution
from invigil.kit import totp
from invigil.kit.clock import utcnow
from invigil.kit.keywrap import load_recovery_key
from invigil.setup import initialize

PASSPHRASE = "correct horse battery staple"
PASSWORD = "a-long-test-password"

FULL_POLICY: dict[str, Any] = {
    "screenshots": {"enabled": True, "interval": {"min_seconds": 5, "max_seconds": 6}},
    "webcam": {"enabled": True, "interval": {"min_seconds": 5, "max_seconds": 6}},
    "process_snapshots": {"enabled": True, "interval_seconds": 5},
    "handin_folder_backup": {"enabled": True},
    "tail_period_seconds": 2,
    "allowed_offline_seconds": 600,
}


@dataclass
class Installation:
    container: Container
    institution_id: str
    recovery_file: Path
    staff: dict[str, str] = field(default_factory=dict)  # role -> staff id
    recovery_codes: dict[str, list[str]] = field(default_factory=dict)  # email -> its ten codes

    def recovery_key(self) -> x25519.X25519PrivateKey:
        return load_recovery_key(self.recovery_file, PASSPHRASE)


def install(c: Container, tmp: Path) -> Installation:
    init = initialize(
        c,
        slug="uni",
        name="Test University",
        region="eu-north",
        passphrase=PASSPHRASE,
        recovery_file=tmp / "recovery-key.json",
    )
    inst = Installation(c, init.institution_id, init.recovery_file)
    with c.uow() as db:
        institution = db.get(Institution, init.institution_id)
        assert institution is not None
        for role in Role:
            staff = accounts.create_staff(
                db, institution, f"{role.value}@uni.example", role.value.title(), role, PASSWORD
            )
            inst.staff[role.value] = staff.id
            inst.recovery_codes[staff.email] = enrol(db, staff)
    return inst


def totp_secret(email: str) -> str:
    """Each test account's TOTP secret, derived from its email so that any test can compute codes."""
    return base64.b32encode(hashlib.sha256(f"invigil-test-totp\0{email}".encode()).digest()[:20]).decode()


def enrol(db: Any, staff: Any) -> list[str]:
    """Two-factor login set up with the account's test secret; returns the recovery codes."""
    return twofactor.enrol_on_behalf(db, staff, utcnow(), totp_secret(staff.email))[1]


_last_step: dict[tuple[str, str], int] = {}  # (server, email) -> the last step this helper used
_tokens: dict[tuple[str, str], dict[str, str]] = {}


def credentials(url: str, email: str, institution: str = "uni", password: str = PASSWORD) -> dict[str, str]:
    """A login body with a TOTP code never used before for this account on this server: each code
    works once, so a second login within 30 seconds takes the next step's code (±1 step skew)."""
    now = time.time()
    step = max(totp.step_at(now), _last_step.get((url, email), -1) + 1)
    if step > totp.step_at(now) + 1:  # both already used: wait for the next step
        time.sleep((step - 1) * totp.STEP_SECONDS - now + 0.05)
    _last_step[(url, email)] = step
    code = totp.hotp(totp.secret_bytes(totp_secret(email)), step)
    return {"institution": institution, "email": email, "password": password, "totp": code}


@dataclass
class ExamSetup:
    exam_id: str
    codes: list[str]
    session_ids: list[str]
    pseudonyms: list[str]


def make_exam(
    inst: Installation,
    n: int = 2,
    policy: dict[str, Any] | None = None,
    minutes: float = 60,
    start_offset: float = -1,
    assign: bool = True,
) -> ExamSetup:
    from invigil.accounts.models import Staff

    c = inst.container
    with c.uow() as db:
        institution = db.get(Institution, inst.institution_id)
        assert institution is not None
        start = utcnow() + timedelta(minutes=start_offset)
        exam = exams.create_exam(
            db,
            institution,
            title="Test exam",
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            timezone="Europe/Copenhagen",
            policy=FULL_POLICY if policy is None else policy,
        )
        if assign:
            for role in (Role.INVIGILATOR, Role.REVIEWER):
                staff = db.get(Staff, inst.staff[role.value])
                assert staff is not None
                exams.assign(db, exam, staff, role)
        issued = exams.add_candidates(db, exam, [{"full_name": f"Person {i}"} for i in range(n)])
        return ExamSetup(
            exam.id, [i.code for i in issued], [i.session_id for i in issued], [i.pseudonym for i in issued]
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThreadServer:
    """The real app under uvicorn in a thread, on a free loopback port, with the HTTP protocol
    `invigil serve` uses (``http="httptools"``: uvicorn's own, every request through ASGI)."""

    def __init__(self, c: Container, port: int | None = None, http: Any = HotWireProtocol) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(container=c)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False, http=http
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("test server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def login(url: str, role: str) -> dict[str, str]:
    return login_as(url, f"{role}@uni.example")


def login_as(url: str, email: str, institution: str = "uni") -> dict[str, str]:
    """Bearer headers for a test account. A token from an earlier call is reused while it is valid
    (a code works once per 30 seconds, and tests log the same person in many times)."""
    key = (url, email)
    cached = _tokens.get(key)
    if cached and httpx.get(url + "/api/v1/staff/me", headers=cached).status_code == 200:
        return cached
    r = httpx.post(url + "/api/v1/staff/login", json=credentials(url, email, institution))
    if r.status_code == 401:  # the code was spent by a login through another URL of the same server
        r = httpx.post(url + "/api/v1/staff/login", json=credentials(url, email, institution))
    r.raise_for_status()
    _tokens[key] = {"Authorization": f"Bearer {r.json()['token']}"}
    return _tokens[key]


KEY_PASSPHRASE = "a personal key passphrase"


def give_key(inst: Installation, role: str, staff_id: str | None = None) -> x25519.X25519PrivateKey:
    """Make a staff member's key pair the way their CLI or browser would, and register it."""
    from invigil.accounts import keys as staff_keys
    from invigil.accounts.models import Staff
    from invigil.kit import envelope
    from invigil.kit.keywrap import new_staff_key

    c = inst.container
    with c.uow() as db:
        staff = db.get(Staff, staff_id or inst.staff[role])
        assert staff is not None
        private_key, wrapped = new_staff_key(KEY_PASSPHRASE, staff.id, iterations=c.settings.kdf_iterations)
        staff_keys.set_key(
            db,
            staff,
            envelope.b64e(envelope.raw_public(private_key.public_key())),
            wrapped,
            min_iterations=c.settings.kdf_iterations,
            now=utcnow(),
        )
    return private_key


def add_staff(inst: Installation, role: Role, email: str) -> str:
    with inst.container.uow() as db:
        institution = db.get(Institution, inst.institution_id)
        assert institution is not None
        staff = accounts.create_staff(db, institution, email, email.split("@")[0], role, PASSWORD)
        inst.recovery_codes[staff.email] = enrol(db, staff)
        return staff.id
