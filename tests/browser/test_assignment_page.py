"""The assignment sealed with the exam PIN in the coordinator's browser (ADR 0023), in real Chromium.

- argon2.js gives argon2-cffi's bytes (and BLAKE2b hashlib's), lanes, odd sizes and the production
  parameters (64 MiB, 3 passes) included;
- pinseal.js refuses and normalizes PINs as kit/pin.py does;
- the page seals, uploads ciphertext only, and what it uploaded opens with the PIN in Python, as a
  candidate's agent opens it; bad choices are refused before the slow step, and nothing but the
  sealed bytes ever leaves the page.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from argon2.low_level import ARGON2_VERSION, Type, hash_secret_raw
from playwright.sync_api import expect

from invigil.assignments import repository, service
from invigil.kit import pin as pins
from invigil.kit import pinseal
from tests.browser.conftest import staff_tab
from tests.browser.test_login_pages import code_for, log_in
from tests.factories import make_exam, totp_secret

EMAIL = "coordinator@uni.example"
ARGON2 = "/static/argon2.js"
PINSEAL = "/static/pinseal.js"


def argon2_py(password: bytes, salt: bytes, m: int, t: int, p: int, length: int) -> str:
    raw = hash_secret_raw(
        password,
        salt,
        time_cost=t,
        memory_cost=m,
        parallelism=p,
        hash_len=length,
        type=Type.ID,
        version=ARGON2_VERSION,
    )
    return raw.hex()


def argon2_js(page: Any, password: bytes, salt: bytes, m: int, t: int, p: int, length: int) -> str:
    return str(
        page.evaluate(
            """async ([module, pw, salt, m, t, p, len]) => {
                const { argon2id } = await import(module);
                const hex = (b) => Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
                const out = await argon2id(Uint8Array.from(pw), Uint8Array.from(salt),
                    { memoryKib: m, iterations: t, parallelism: p, hashLength: len });
                return hex(out);
            }""",
            [ARGON2, list(password), list(salt), m, t, p, length],
        )
    )


def test_blake2b_matches_hashlib(page):
    for size in (0, 1, 127, 128, 129, 256, 1000):
        data = bytes((i * 7 + size) % 256 for i in range(size))
        for length in (1, 32, 63, 64):
            got = page.evaluate(
                """async ([module, data, len]) => {
                    const { blake2b } = await import(module);
                    const out = blake2b(Uint8Array.from(data), len);
                    return Array.from(out, (v) => v.toString(16).padStart(2, "0")).join("");
                }""",
                [ARGON2, list(data), length],
            )
            assert got == hashlib.blake2b(data, digest_size=length).hexdigest(), (size, length)


@pytest.mark.parametrize(
    ("m", "t", "p", "length"),
    [
        (8, 1, 1, 32),  # the smallest memory
        (64, 1, 1, 32),  # the tests' cheap parameters
        (256, 3, 1, 16),  # passes after the first XOR into memory
        (512, 2, 4, 64),  # four lanes referencing each other
        (100, 2, 3, 100),  # memory not a multiple of 4 lanes; a tag longer than one BLAKE2b
        (1024, 1, 2, 1024),  # data-independent addressing over several address blocks
    ],
)
def test_argon2id_matches_argon2_cffi(page, m, t, p, length):
    password, salt = "K7QM3XPD æ".encode(), os.urandom(16)
    assert argon2_js(page, password, salt, m, t, p, length) == argon2_py(password, salt, m, t, p, length)


def test_argon2id_with_the_production_parameters(page):
    """64 MiB, 3 passes: what a real seal costs (its time is in docs/benchmarks.md, not asserted)."""
    prod = pinseal.PRODUCTION
    password, salt = b"K7QM3XPD", os.urandom(16)
    expected = argon2_py(password, salt, prod.memory_kib, prod.iterations, prod.parallelism, 32)
    assert argon2_js(page, password, salt, prod.memory_kib, prod.iterations, prod.parallelism, 32) == expected


PINS = [
    "K7QM-3XPD",
    "k7qm 3xpd",
    "oil1-u7qm",  # look-alikes
    "123456",  # too short
    "1234 5678 9012",  # a run of digits
    "ABCDABCD",  # a repeated block
    "AAAAAAAAAAAA",
    "2837-4915-0264",  # 12 digits
    "K7QM-3XP",  # 35 bits
    "K7QM_3XPD",  # a character outside the alphabet
    "Grüße aus Køge 12",
    "",
    "   ",
    "X" * 65,
    "9Z8Y-7X6W",
]


def test_pin_rules_match_kit_pin(page):
    js = page.evaluate(
        """async ([module, pins]) => {
            const { checkPinStrength } = await import(module);
            const verdict = (p) => {
                try { return ["ok", checkPinStrength(p)]; } catch (e) { return [e.name, e.message]; }
            };
            return pins.map(verdict);
        }""",
        [PINSEAL, PINS],
    )
    for pin, got in zip(PINS, js, strict=True):
        try:
            want = ["ok", pins.check_strength(pin)]
        except pins.WeakPin as exc:
            want = ["WeakPin", str(exc)]
        assert got == want, pin


def test_generated_pins_pass_the_rules(page):
    generated = page.evaluate(
        "async (module) => Array.from({ length: 200 }, (await import(module)).generatePin)",
        PINSEAL,
    )
    assert len(set(generated)) == 200
    for pin in generated:
        assert (len(pin), pin[4]) == (9, "-")
        pins.check_strength(pin)


@pytest.fixture
def tab(browser, server) -> Iterator[Any]:
    with staff_tab(browser, server, 1100, 1000) as page:
        yield page


def open_uploaded(installation: Any, exam_id: str, pin: str) -> dict[str, bytes]:
    """What a candidate's agent gets: every stored file opened with the PIN."""
    c = installation.container
    out = {}
    with c.uow() as db:
        current = repository.set_for_exam(db, exam_id)
        assert current is not None
        for row in repository.files(db, current.id):
            _, data = service.read_file(db, c.store, exam_id, row.position)
            header = pinseal.read_header(io.BytesIO(data))
            key = pinseal.unlock(header, pin)
            out[header.name] = pinseal.open_bytes(data, key, exam_id, header.name)
    return out


def test_a_coordinator_seals_and_uploads_the_assignment_in_the_browser(tab, installation):
    exam = make_exam(installation, start_offset=120)
    task = "Opgave 1: Beregn udbyttet. Æblet falder ikke langt fra stammen.\n".encode() * 40
    data = os.urandom(150_000)  # three chunks, the last one short
    files = [
        {"name": "Opgave æøå.txt", "mimeType": "text/plain", "buffer": task},
        {"name": "data.bin", "mimeType": "application/octet-stream", "buffer": data},
    ]
    log_in(tab, EMAIL, code_for(totp_secret(EMAIL)))
    tab.goto(f"/admin/exams/{exam.exam_id}/assignment")
    expect(tab.locator("#no-assignment")).to_be_visible()
    status = tab.locator("#seal-status")
    choose = tab.get_by_label("Assignment files")
    submit = tab.get_by_role("button", name="Seal and upload")

    # Refused before anything slow happens, each with what to do instead.
    choose.set_input_files([files[1], {**files[1], "name": "DATA.bin"}])
    tab.get_by_label("PIN", exact=True).fill("K7QM-3XPD")
    tab.get_by_label("PIN again").fill("K7QM-3XPD")
    submit.click()
    expect(status).to_contain_text("'data.bin' and 'DATA.bin' would be the same file")
    choose.set_input_files(files)
    tab.get_by_label("PIN", exact=True).fill("123456")
    tab.get_by_label("PIN again").fill("123456")
    submit.click()
    expect(status).to_contain_text("This PIN is too weak")
    tab.get_by_label("PIN", exact=True).fill("K7QM-3XPD")
    tab.get_by_label("PIN again").fill("K7QM-3XPE")
    submit.click()
    expect(status).to_contain_text("The two PINs differ")
    assert not [s for s in tab.sent if "assignment-set" in s]

    # A generated PIN, shown with the warning to write it down; seal, upload.
    tab.get_by_role("button", name="Generate a strong PIN").click()
    expect(tab.locator("#pin-note")).to_be_visible()
    pin = tab.get_by_label("PIN", exact=True).input_value()
    assert tab.get_by_label("PIN again").input_value() == pin
    pins.check_strength(pin)
    submit.click()
    expect(status).to_contain_text("Uploaded. Announce the PIN in the exam room", timeout=30_000)
    result = tab.locator("#seal-result")
    expect(result).to_contain_text("Assignment uploaded, version 1")
    expect(result).to_contain_text("Opgave æøå.txt")

    # What the server holds opens with the PIN, byte for byte, as an agent would open it.
    assert open_uploaded(installation, exam.exam_id, pin) == {"Opgave æøå.txt": task, "data.bin": data}
    with pytest.raises(pinseal.WrongPin):
        open_uploaded(installation, exam.exam_id, "9Z8Y-7X6W")
    # Nothing but ciphertext went out: neither the PIN nor a line of the task is in any request.
    sent = "\n".join(tab.sent)
    assert pin not in sent
    assert pin.replace("-", "") not in sent
    assert "Beregn" not in sent

    # The page shows the new version after a reload; replacing it is version 2.
    tab.reload()
    expect(tab.locator("#assignment-info")).to_contain_text("1, uploaded")
    choose.set_input_files(files[:1])
    tab.get_by_label("PIN", exact=True).fill(pin)
    # Typed differently (case, a space for the dash, O for 0 and I for 1): the same PIN.
    tab.get_by_label("PIN again").fill(pin.lower().replace("-", " ").replace("0", "o").replace("1", "i"))
    submit.click()
    expect(tab.locator("#seal-result")).to_contain_text("Assignment replaced, version 2", timeout=30_000)
    assert open_uploaded(installation, exam.exam_id, pin) == {"Opgave æøå.txt": task}


def test_an_assignment_too_large_for_the_server_is_refused_before_upload(tab, installation):
    exam = make_exam(installation, start_offset=120)
    limit = installation.container.settings.max_request_bytes
    log_in(tab, EMAIL, code_for(totp_secret(EMAIL)))
    tab.goto(f"/admin/exams/{exam.exam_id}/assignment")
    status = tab.locator("#seal-status")
    tab.get_by_role("button", name="Generate a strong PIN").click()
    # Larger than the limit as it is: refused before the files are read or the key derived.
    tab.get_by_label("Assignment files").set_input_files(
        [{"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * (limit + 1)}]
    )
    tab.get_by_role("button", name="Seal and upload").click()
    expect(status).to_contain_text("INVIGIL_MAX_REQUEST_BYTES")
    expect(tab.locator("#seal-progress")).to_be_hidden()
    before = status.inner_text()
    # Exactly the limit: sealing adds a header and a tag per chunk, which tips it over.
    tab.get_by_label("Assignment files").set_input_files(
        [{"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"\0" * limit}]
    )
    tab.get_by_role("button", name="Seal and upload").click()
    expect(status).not_to_have_text(before)  # sealing (a new message), then refused
    expect(status).to_contain_text("Sealed, the assignment would be", timeout=30_000)
    expect(status).to_contain_text("INVIGIL_MAX_REQUEST_BYTES")
    assert not [s for s in tab.sent if "assignment-set" in s]
