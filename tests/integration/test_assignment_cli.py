"""`invigil assignment upload` as a coordinator runs it: seals locally with production KDF parameters."""

from __future__ import annotations

import io
import subprocess
import sys

import httpx
import pytest

from invigil.kit import pinseal
from tests.factories import PASSWORD, credentials, login, make_exam


def invigil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "invigil.cli.main", *args], capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def files(tmp_path):
    (tmp_path / "Opgave 1.pdf").write_bytes(b"%PDF-1.7 the exam questions")
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (tmp_path / "pw").write_text(PASSWORD + "\n")
    return tmp_path


def upload_args(
    server, exam_id: str, folder, pin_file: str, *names: str, code: str | None = None
) -> list[str]:
    code = code or credentials(server.url, "coordinator@uni.example")["totp"]
    return [
        "assignment",
        "upload",
        "--server",
        server.url,
        "--exam",
        exam_id,
        "--institution",
        "uni",
        "--email",
        "coordinator@uni.example",
        "--password-file",
        str(folder / "pw"),
        "--code",
        code,
        "--pin-file",
        pin_file,
        *[str(folder / n) for n in names],
    ]


def test_upload_seals_with_production_parameters(server, installation, files):
    exam = make_exam(installation, n=1, start_offset=10)
    (files / "pin").write_text("PZ4N-8QWC\n")
    r = invigil(*upload_args(server, exam.exam_id, files, str(files / "pin"), "Opgave 1.pdf", "data.csv"))
    assert r.returncode == 0, r.stderr
    assert "Assignment uploaded" in r.stdout
    assert "PZ4N" not in r.stdout + r.stderr
    info = httpx.get(
        f"{server.url}/api/v1/staff/exams/{exam.exam_id}/assignment-set", headers=login(server.url, "admin")
    ).json()
    assert info["kdf"] == {"alg": "argon2id", "memory_kib": 65536, "iterations": 3, "parallelism": 1}
    assert [f["name"] for f in info["files"]] == ["Opgave 1.pdf", "data.csv"]
    c = installation.container
    from invigil.assignments.models import AssignmentFile

    with c.uow() as db:
        key = db.query(AssignmentFile).filter_by(position=0).one().blob_key
    blob = c.store.get(key)
    header = pinseal.read_header(io.BytesIO(blob))
    opened = pinseal.open_bytes(blob, pinseal.unlock(header, "pz4n8qwc"), exam.exam_id, "Opgave 1.pdf")
    assert opened == b"%PDF-1.7 the exam questions"


def test_weak_pin_and_bad_names_are_refused_before_anything_is_sent(server, installation, files):
    exam = make_exam(installation, n=1, start_offset=10)
    (files / "weak").write_text("123456\n")
    r = invigil(*upload_args(server, exam.exam_id, files, str(files / "weak"), "data.csv", code="000000"))
    assert r.returncode != 0
    assert "too weak" in r.stderr
    (files / "pin").write_text("PZ4N-8QWC\n")
    (files / ".env").write_text("x")
    r = invigil(*upload_args(server, exam.exam_id, files, str(files / "pin"), ".env", code="000000"))
    assert r.returncode != 0
    assert "starts with a dot" in r.stderr
    r = invigil(*upload_args(server, exam.exam_id, files, str(files / "pin"), "missing.pdf", code="000000"))
    assert "is not a file" in r.stderr
    r = invigil("assignment", "upload", "--pin", "PZ4N-8QWC", "--server", server.url)
    assert r.returncode != 0  # there is no way to put the PIN on the command line
    assert "unrecognized arguments: --pin" in r.stderr or "required" in r.stderr
    info = httpx.get(
        f"{server.url}/api/v1/staff/exams/{exam.exam_id}/assignment-set", headers=login(server.url, "admin")
    )
    assert info.status_code == 404


def test_refusals_are_explained(server, installation, files):
    started = make_exam(installation, n=1, start_offset=-1)
    (files / "pin").write_text("PZ4N-8QWC\n")
    r = invigil(*upload_args(server, started.exam_id, files, str(files / "pin"), "data.csv"))
    assert r.returncode != 0
    assert "can no longer be uploaded or replaced" in r.stderr
    (files / "pw").write_text("wrong password\n")
    r = invigil(*upload_args(server, started.exam_id, files, str(files / "pin"), "data.csv"))
    assert "The login was refused (401)" in r.stderr
