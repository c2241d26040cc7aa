"""Proof of minimal logs: a candidate and a member of staff use Invigil from a known address with a
distinctive browser and agent; afterwards neither the full address nor the full user agent (nor the
agent's host name) is in any table, any file of the data directory, or any log line.
SQLite and PostgreSQL."""

from __future__ import annotations

import logging

import httpx
import pytest
from sqlalchemy import select, text

from invigil.kit.minimal import install_log_redaction
from invigil.models import metadata
from invigil.protocol import v1
from tests.factories import credentials, make_exam
from tests.integration.agentkit import activation_body, new_candidate_key, post_activation

ADDRESS = "203.0.113.77"  # TEST-NET-3: documentation addresses
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0 UniqueFingerprint/4711"
AGENT = {
    "agent": "invigil-agent/0.1.9",
    "os": "Linux 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 UniqueFingerprint/4711",
    "hostname": "annas-laptop",
}
SECRETS = (ADDRESS, "UniqueFingerprint", "annas-laptop")


@pytest.fixture
def http(server):
    headers = {"X-Forwarded-For": ADDRESS, "User-Agent": USER_AGENT}  # as a reverse proxy passes them on
    with httpx.Client(base_url=server.url, timeout=20, headers=headers) as client:
        yield client


def everything_stored(installation) -> str:
    """Every row of every table, as text, and every file under the data directory."""
    c = installation.container
    parts = []
    with c.engine.connect() as conn:
        for table in metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in conn.execute(select(table))]
        if conn.dialect.name == "sqlite":
            parts.append(repr(conn.execute(text("SELECT * FROM sqlite_master")).all()))
    for path in c.settings.data_dir.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def test_no_full_address_or_user_agent_reaches_any_table_file_or_log(http, server, installation, caplog):
    install_log_redaction()  # as `invigil serve` does in every process
    caplog.set_level(logging.DEBUG)
    exam = make_exam(installation, n=1)
    # A wrong code first (rate-limit bookkeeping), then the right one.
    wrong = activation_body("AAAA-BBBB-CCCC-DDDD", "s" * 43, new_candidate_key())
    assert post_activation(http, wrong).status_code in (401, 404, 422)
    body = {**activation_body(exam.codes[0], "t" * 43, new_candidate_key()), "agent": AGENT}
    r = post_activation(http, body)
    assert r.status_code == 200, r.text
    auth = {"Authorization": f"Bearer {'t' * 43}"}
    assert (
        http.post(
            f"{v1.PREFIX}/heartbeat", headers=auth, json={"seq": 1, "sent_at": "2026-11-22T10:00:00Z"}
        ).status_code
        == 200
    )
    # Staff: a failed and a good login, then a read that is logged.
    email = "coordinator@uni.example"
    bad = http.post(
        "/api/v1/staff/login", json={"institution": "uni", "email": email, "password": "wrong password!"}
    )
    assert bad.status_code in (401, 422)
    good = http.post("/api/v1/staff/login", json=credentials(server.url, email))
    assert good.status_code == 200, good.text
    board = f"/api/v1/staff/exams/{exam.exam_id}/sessions"
    assert http.get(board, headers={"Authorization": f"Bearer {good.json()['token']}"}).status_code == 200
    # Whatever code logs an address by mistake, the line that is written carries only the network.
    logging.getLogger("invigil.anything").warning("request from %s refused", ADDRESS)

    stored = everything_stored(installation)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in SECRETS:
        assert secret not in stored, f"{secret!r} was stored"
        assert secret not in logged, f"{secret!r} was logged"
    # Not absent by accident: the truncated forms are there.
    assert "203.0.113.0/24" in stored  # the activation rate limit's bucket
    assert "203.0.113.0/24" in logged
    assert "invigil-agent 0.1" in stored
