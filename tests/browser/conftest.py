"""Real Chromium (Debian's, driven by Playwright) on pages served by the real app.

Playwright never downloads a browser here: it always launches /usr/bin/chromium. Where that is
missing the browser tests are skipped with a loud reason on a developer machine, and fail in CI.

The fixtures are package-scoped on purpose: while Playwright's sync API is open it keeps an event
loop running in the main thread, which would break every later test that calls asyncio.run().
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pytest

from invigil.config import Settings
from invigil.container import Container
from tests.factories import ThreadServer
from tests.seaweed import in_ci

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
MODULE = "/static/invigil-crypto.js"


def _unavailable(why: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"browser tests are required in CI: {why}", pytrace=False)
    pytest.skip(f"BROWSER TESTS NOT RUN: {why}")


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (make setup)")
    if not CHROMIUM.exists():
        _unavailable(
            f"{CHROMIUM} is missing (make setup installs Debian's chromium: apt-get install chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="package")
def static_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadServer]:
    """The real app (it mounts web/static at /static) on a loopback port: a secure context."""
    data = tmp_path_factory.mktemp("browser-app")
    c = Container.from_settings(Settings(data_dir=data, run_jobs_in_process=False))
    srv = ThreadServer(c).start()
    yield srv
    srv.stop()
    c.close()


@pytest.fixture(scope="package")
def _shared_page(browser: Any, static_server: ThreadServer) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context()
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(static_server.url + "/healthz")
    pg.evaluate(f"async () => {{ window.ic = await import('{MODULE}'); }}")
    yield pg, errors
    context.close()


@pytest.fixture
def page(_shared_page: tuple[Any, list[str]]) -> Iterator[Any]:
    """A page on the app's origin with the module imported as ``window.ic``.

    One page serves every test (a new renderer per test costs more than the tests): the module
    keeps no state of its own, and each test builds its keys and keyrings afresh.
    """
    pg, errors = _shared_page
    errors.clear()
    yield pg
    assert not errors, f"uncaught errors in the page: {errors}"


@contextmanager
def staff_tab(browser: Any, server: ThreadServer, width: int, height: int, **context: Any) -> Iterator[Any]:
    """A fresh browser context on the server, as a person's own browser: the page records every
    request it sends (``page.sent``: URL and body, to prove what never leaves it) and fails the test
    on any uncaught error or console error — CSP violations arrive as console errors. Refused
    requests ("Failed to load resource": a 401 or 422 a test provokes) are not problems."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=server.url, **context)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.sent = []
    page.on("request", lambda r: page.sent.append(r.url + "\n" + (r.post_data or "")))
    yield page
    ctx.close()
    assert not problems, problems
