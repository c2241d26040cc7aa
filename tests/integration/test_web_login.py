"""The browser login over HTTP: password, then TOTP (or enrolment); throttling and lockout; CSRF;
session expiry and logout; cookie flags; the CSP on every page; the API login's second factor."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from invigil.accounts import service as accounts
from invigil.accounts import throttle, websessions
from invigil.accounts.models import RecoveryCode, Role, Staff, WebSession
from invigil.audit.models import AccessLogEntry
from invigil.config import Settings
from invigil.container import Container
from invigil.institutions.models import Institution
from invigil.jobs import sweep_once
from invigil.kit import totp
from invigil.kit.clock import utcnow
from tests.factories import PASSWORD, ThreadServer, credentials, give_key, install, totp_secret

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        kdf_iterations=1000,
        run_jobs_in_process=False,
        login_max_failures=3,
        login_client_max_failures=10,
    )


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def csrf(page: httpx.Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def password_step(http: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    token = csrf(http.get("/login"))
    return http.post("/login", data={"csrf_token": token, "email": email, "password": password})


def code_now(email: str, offset: int = 0) -> str:
    return totp.code_at(totp_secret(email), time.time() + offset * totp.STEP_SECONDS)


def full_login(http: httpx.Client, email: str, code: str | None = None) -> httpx.Response:
    r = password_step(http, email)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/login/code"
    token = csrf(http.get("/login/code"))
    return http.post("/login/code", data={"csrf_token": token, "code": code or code_now(email)})


def actions(inst, staff_id: str, prefix: str) -> list[tuple[str, dict]]:
    """The access log's entries of one person whose action starts with ``prefix``."""
    with inst.container.uow() as db:
        rows = db.scalars(
            select(AccessLogEntry)
            .where(AccessLogEntry.actor_id == staff_id, AccessLogEntry.action.startswith(prefix))
            .order_by(AccessLogEntry.id)
        )
        return [(r.action, r.detail) for r in rows]


def unenrolled(inst, email: str, role: Role = Role.INVIGILATOR) -> str:
    with inst.container.uow() as db:
        institution = db.get(Institution, inst.institution_id)
        return accounts.create_staff(db, institution, email, "New Person", role, PASSWORD).id


def test_password_then_code_then_home(http, installation):
    assert http.get("/home").headers["location"] == "/login"
    r = password_step(http, "reviewer@uni.example")
    cookie = r.headers["set-cookie"]
    assert "invigil_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Secure" not in cookie  # the public URL is http here
    assert http.get("/home").headers["location"] == "/login/code"  # not logged in yet
    before = http.cookies["invigil_session"]
    r = http.post(
        "/login/code",
        data={"csrf_token": csrf(http.get("/login/code")), "code": code_now("reviewer@uni.example")},
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/home"
    assert http.cookies["invigil_session"] != before  # a new id once logged in (no fixation)
    home = http.get("/home")
    assert home.status_code == 200
    assert "Reviewer" in home.text
    assert "reviewer" in home.text
    assert "Test exam" not in home.text  # no exams assigned here
    assert 'hx-headers=\'{"X-CSRF-Token": "' in home.text
    assert http.get("/login").headers["location"] == "/home"


def test_wrong_and_replayed_codes_are_refused(http, installation):
    email = "coordinator@uni.example"
    code = code_now(email)
    r = full_login(http, email, "000000" if code != "000000" else "111111")
    assert r.status_code == 401
    assert "not valid" in r.text
    assert (
        http.post("/login/code", data={"csrf_token": csrf(http.get("/login/code")), "code": code}).status_code
        == 303
    )
    http.cookies.clear()
    r = full_login(http, email, code)  # the same code again: refused
    assert r.status_code == 401
    assert "each code works once" in r.text


def test_api_login_needs_the_code_once_enrolled(server, installation):
    url = server.url
    body = credentials(url, "reviewer@uni.example")
    assert httpx.post(url + "/api/v1/staff/login", json=body).status_code == 200
    r = httpx.post(url + "/api/v1/staff/login", json=body)  # replayed
    assert r.status_code == 401
    assert "each code works once" in r.json()["message"]
    r = httpx.post(url + "/api/v1/staff/login", json={**body, "totp": None})
    assert r.status_code == 401
    assert "authenticator app" in r.json()["message"]
    unenrolled(installation, "new@uni.example")
    r = httpx.post(url + "/api/v1/staff/login", json=credentials(url, "new@uni.example"))
    assert r.status_code == 403
    assert "Set up two-factor login first" in r.json()["message"]
    assert "/login" in r.json()["message"]


def test_recovery_codes_work_once_each(server, installation):
    url, email = server.url, "admin@uni.example"
    codes = installation.recovery_codes[email]
    assert len(codes) == 10
    assert len(set(codes)) == 10
    body = {**credentials(url, email), "totp": codes[0].lower().replace("-", " ")}  # typed loosely
    assert httpx.post(url + "/api/v1/staff/login", json=body).status_code == 200
    assert httpx.post(url + "/api/v1/staff/login", json=body).status_code == 401
    other = {**credentials(url, "reviewer@uni.example"), "totp": codes[1]}  # not theirs
    assert httpx.post(url + "/api/v1/staff/login", json=other).status_code == 401
    with installation.container.uow() as db:
        rows = db.scalars(select(RecoveryCode).where(RecoveryCode.staff_id == installation.staff["admin"]))
        stored = {r.code_hash: r.used_at for r in rows}
    assert len(stored) == 10
    assert sum(1 for used in stored.values() if used) == 1
    assert not any(c.replace("-", "") in h for c in codes for h in stored)  # hashes only
    assert actions(installation, installation.staff["admin"], "twofactor.recovery") == [
        ("twofactor.recovery_code", {"left": 9})
    ]


def test_enrolment_at_first_login(http, installation):
    email = "new@uni.example"
    unenrolled(installation, email)
    r = password_step(http, email)
    assert r.headers["location"] == "/login/enrol"
    page = http.get("/login/enrol")
    assert "<svg" in page.text
    assert "<path" in page.text
    secret = re.search(r'<code id="secret" class="secret">([A-Z2-7 ]+)</code>', page.text).group(1)
    secret = secret.replace(" ", "")
    token = csrf(page)
    r = http.post("/login/enrol", data={"csrf_token": token, "code": "123456"})
    assert r.status_code == 401
    assert "does not match" in r.text
    r = http.post("/login/enrol", data={"csrf_token": token, "code": totp.code_at(secret, time.time())})
    assert r.status_code == 200
    codes = re.findall(r"<li><code>([0-9A-Z-]{19})</code></li>", r.text)
    assert len(codes) == 10
    assert http.get("/home").status_code == 200
    with installation.container.uow() as db:
        staff = db.scalar(select(Staff).where(Staff.email == email))
        assert staff.totp_secret == secret
    assert actions(installation, staff.id, "twofactor.") == [("twofactor.enrol", {})]
    # Shown once: the enrolment page is gone, and a second enrolment is not possible.
    assert http.get("/login/enrol").headers["location"] == "/home"


def test_lockout_per_account_does_not_tell_whether_it_exists(http, installation):
    for email in ("reviewer@uni.example", "nobody@uni.example"):
        for _ in range(3):
            r = password_step(http, email, "wrong password!")
            assert r.status_code == 401
            assert "Wrong email or password." in r.text
        r = password_step(http, email, PASSWORD)  # even the right password, for now
        assert r.status_code == 429
        assert re.search(r"Too many attempts\. Try again in 5 minutes, or ask your administrator", r.text)
    # Wrong codes count too: the second factor cannot be guessed either.
    for _ in range(3):
        r = full_login(http, "invigilator@uni.example", "000000")
        http.cookies.delete("invigil_session")
    assert password_step(http, "invigilator@uni.example").status_code == 429


def test_lockout_per_client_network(http, installation):
    for i in range(10):
        assert password_step(http, f"guess{i}@uni.example", "wrong password!").status_code == 401
    r = password_step(http, "admin@uni.example")
    assert r.status_code == 429
    r = httpx.post(
        str(http.base_url) + "/api/v1/staff/login", json=credentials(str(http.base_url), "admin@uni.example")
    )
    assert r.status_code == 429
    assert "Too many attempts" in r.json()["message"]
    assert int(r.headers["retry-after"]) > 200


def test_csrf_is_required_on_every_post(http, installation):
    assert (
        http.post("/login", data={"email": "reviewer@uni.example", "password": PASSWORD}).status_code == 403
    )
    r = http.post(
        "/login", data={"csrf_token": "forged", "email": "reviewer@uni.example", "password": PASSWORD}
    )
    assert r.status_code == 403
    assert "did not come from this Invigil page" in r.text
    assert full_login(http, "reviewer@uni.example").status_code == 303
    assert http.post("/logout").status_code == 403
    assert http.post("/logout", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert http.get("/home").status_code == 200  # still logged in
    token = csrf(http.get("/home"))
    r = http.post("/logout", headers={"X-CSRF-Token": token, "HX-Request": "true"})  # as htmx sends it
    assert r.status_code == 204
    assert r.headers["HX-Redirect"].startswith("/login")


def test_logout_deletes_the_session_row(http, installation):
    full_login(http, "reviewer@uni.example")
    stolen = http.cookies["invigil_session"]
    r = http.post("/logout", data={"csrf_token": csrf(http.get("/home"))})
    assert r.status_code == 303
    with installation.container.uow() as db:
        assert db.scalars(select(WebSession)).all() == []
    http.cookies.set("invigil_session", stolen)
    assert http.get("/home").headers["location"] == "/login"


@pytest.mark.parametrize("which", ["idle", "absolute"])
def test_sessions_expire(http, installation, which):
    full_login(http, "reviewer@uni.example")
    assert http.get("/home").status_code == 200
    with installation.container.uow() as db:
        row = db.scalars(select(WebSession)).one()
        if which == "idle":
            row.last_seen_at = utcnow() - timedelta(
                seconds=installation.container.settings.web_session_idle_seconds
            )
        else:
            row.expires_at = utcnow() - timedelta(seconds=1)
    assert http.get("/home").headers["location"] == "/login"
    with installation.container.uow() as db:
        assert db.scalars(select(WebSession)).all() == []


def test_wrong_role_is_refused_the_key_page(http, installation):
    full_login(http, "examiner@uni.example")
    home = http.get("/home")
    assert "no proctoring data" in home.text
    assert "/unlock" not in home.text
    for path in ("/unlock", "/account/key"):
        r = http.get(path)
        assert r.status_code == 403
        assert "no personal key" in r.text


def test_the_key_page_serves_only_the_wrapped_key(http, installation):
    give_key(installation, "reviewer")
    full_login(http, "reviewer@uni.example")
    page = http.get("/unlock")
    assert 'data-kid="' in page.text
    key = http.get("/account/key").json()
    assert set(key) == {"kid", "public_key", "wrapped"}
    assert key["wrapped"]["kdf"] == "PBKDF2-HMAC-SHA512"


def test_every_page_has_a_strict_csp(http, installation):
    pages = [http.get(p) for p in ("/", "/login", "/me/not-a-token")]
    full_login(http, "reviewer@uni.example")
    pages += [http.get(p) for p in ("/home", "/unlock", "/home/exams")]
    for page in pages:
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe" not in csp
        assert "frame-ancestors 'none'" in csp
        assert page.headers["cache-control"] == "no-store"
        assert "<script>" not in page.text
        assert " style=" not in page.text


def test_secure_cookie_when_the_public_url_is_https(tmp_path):
    settings = Settings(
        data_dir=tmp_path,
        public_url="https://invigil.example.edu",
        kdf_iterations=1000,
        run_jobs_in_process=False,
    )
    c = Container.from_settings(settings)
    install(c, tmp_path)
    srv = ThreadServer(c).start()  # plain http on loopback, as behind a TLS-terminating proxy
    try:
        with httpx.Client(base_url=srv.url) as client:
            page = client.get("/login")
            assert "Secure" in page.headers["set-cookie"]
            # httpx keeps a Secure cookie off plain http, as a browser would: send it by hand.
            r = client.post(
                "/login",
                data={"csrf_token": csrf(page), "email": "reviewer@uni.example", "password": PASSWORD},
                headers={"Cookie": f"invigil_login_csrf={csrf(page)}"},
            )
            assert r.status_code == 303
            cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("invigil_session="))
            assert "Secure" in cookie
            assert "HttpOnly" in cookie
    finally:
        srv.stop()
        c.close()


def test_the_sweeper_forgets_ended_sessions_and_old_failures(http, installation):
    c = installation.container
    password_step(http, "reviewer@uni.example", "wrong password!")
    full_login(http, "admin@uni.example")
    with c.uow() as db:
        assert throttle.sweep(db, utcnow(), c.settings.login_window_seconds) == 0
        assert websessions.sweep(db, utcnow()) == 0
    later = utcnow() + timedelta(seconds=c.settings.web_session_max_seconds + 1)
    with c.uow() as db:
        assert throttle.sweep(db, later, c.settings.login_window_seconds) == 2  # the account, the network
        assert websessions.sweep(db, later) == 1
    assert sweep_once(c)["web_sessions_ended"] == 0


def test_a_half_done_login_can_be_cancelled(http, installation):
    password_step(http, "reviewer@uni.example")
    page = http.get("/login/code")
    assert "Cancel and start again" in page.text
    assert http.post("/logout", data={"csrf_token": csrf(page)}).status_code == 303
    assert http.get("/login").status_code == 200  # the login form again, not the code step
    with installation.container.uow() as db:
        assert db.scalars(select(WebSession)).all() == []


def test_the_pages_call_the_staff_api_with_the_login_cookie(http, installation):
    """ADR 0015: the JSON API takes the browser's login cookie; writes need the CSRF header too."""
    assert http.get("/api/v1/staff/me").status_code == 401  # no cookie, no bearer
    r = password_step(http, "reviewer@uni.example")  # half a login does not reach the API
    assert http.get("/api/v1/staff/me").status_code == 401
    token = csrf(http.get("/login/code"))
    http.post("/login/code", data={"csrf_token": token, "code": code_now("reviewer@uni.example")})
    me = http.get("/api/v1/staff/me")
    assert me.status_code == 200
    assert me.json()["role"] == "reviewer"
    page_token = csrf(http.get("/home"))
    # A state-changing request without the page's CSRF token is what a forged cross-site form sends.
    assert http.post("/api/v1/staff/logout").status_code in (401, 403)
    forged = http.put("/api/v1/staff/me/key", json={}, headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403
    assert "CSRF" in forged.json()["message"]
    unforged = http.put("/api/v1/staff/me/key", json={}, headers={"X-CSRF-Token": page_token})
    assert unforged.status_code == 422  # through the gate; the empty body is what is wrong now
    # A bearer token still wins over any cookie (scripts).
    r = http.get("/api/v1/staff/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    http.post("/logout", data={"csrf_token": page_token})
    assert http.get("/api/v1/staff/me").status_code == 401
