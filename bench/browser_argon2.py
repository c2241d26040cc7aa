"""What sealing an assignment in the coordinator's browser costs (ADR 0023): argon2id with the
production parameters in Debian's Chromium (web/static/argon2.js), against argon2-cffi in Python.

    .venv/bin/python bench/browser_argon2.py          # 5 derivations each, medians

The modules are served to the page by Playwright's request routing on a made-up https origin: no
server, no network. The numbers go into docs/benchmarks.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from datetime import date
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from invigil.kit import pinseal

STATIC = Path(__file__).parents[1] / "src" / "invigil" / "web" / "static"
ORIGIN = "https://bench.invalid"
RUNS = 5
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def python_once(salt: bytes) -> tuple[float, str]:
    start = time.perf_counter()
    master = pinseal.derive("K7QM3XPD", "bench", salt, pinseal.PRODUCTION).master  # argon2-cffi
    return time.perf_counter() - start, master.hex()


def serve_static(route: Any) -> None:
    """The page and the modules it imports (argon2.js imports invigil-crypto.js), from web/static."""
    name = route.request.url.removeprefix(ORIGIN + "/")
    if name.endswith(".js"):
        route.fulfill(status=200, content_type="text/javascript", body=(STATIC / name).read_text())
    else:
        route.fulfill(status=200, content_type="text/html", body="<!doctype html>")


def main() -> None:
    p = pinseal.PRODUCTION
    salts = [os.urandom(16) for _ in range(RUNS)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page()
        page.route(f"{ORIGIN}/**", serve_static)
        page.goto(f"{ORIGIN}/")
        version = browser.version
        js: list[float] = []
        for salt in salts:
            seconds, tag = page.evaluate(
                """async ([salt, m, t, p]) => {
                    const { argon2id } = await import("/argon2.js");
                    const start = performance.now();
                    const out = await argon2id(new TextEncoder().encode("K7QM3XPD"), Uint8Array.from(salt),
                        { memoryKib: m, iterations: t, parallelism: p, hashLength: 32 });
                    return [(performance.now() - start) / 1000,
                            Array.from(out, (v) => v.toString(16).padStart(2, "0")).join("")];
                }""",
                [list(salt), p.memory_kib, p.iterations, p.parallelism],
            )
            assert tag == python_once(salt)[1], "argon2.js disagrees with argon2-cffi"
            js.append(seconds)
        browser.close()
    py = [python_once(s)[0] for s in salts]
    print(f"{date.today()}, {platform.machine()}, {os.cpu_count()} cores, Chromium {version}")
    print(
        f"argon2id {p.memory_kib // 1024} MiB × {p.iterations} passes, "
        f"parallelism {p.parallelism}, {RUNS} runs"
    )
    print(
        f"browser (argon2.js): median {statistics.median(js):.2f} s  (min {min(js):.2f}, max {max(js):.2f})"
    )
    print(f"python (argon2-cffi): median {statistics.median(py) * 1000:.0f} ms")
    print(f"ratio: {statistics.median(js) / statistics.median(py):.0f}×")


if __name__ == "__main__":
    main()
