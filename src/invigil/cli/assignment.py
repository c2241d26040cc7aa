"""`invigil assignment upload`: seal the assignment with the exam PIN here, upload only ciphertext.

The PIN is read from a prompt or a file (``--pin-file``), never from the command line or the
environment, where other users and shell histories could see it. It never leaves this machine.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import io
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from invigil.kit import pin as pins
from invigil.kit import pinseal
from invigil.kit.filenames import BadFileName, check_file_name, same_file_key
from invigil.protocol import v1


class Refused(Exception):
    """The server said no (login or upload); the message says why."""


@dataclass(frozen=True)
class Sealed:
    body: bytes  # the sealed files one after another, as the upload endpoint takes them
    names: list[str]


def check_files(paths: list[Path]) -> list[str]:
    """The names the files will have on every candidate's machine; SystemExit says what is wrong."""
    names: dict[str, str] = {}
    for path in paths:
        if not path.is_file():
            raise SystemExit(f"invigil assignment upload: {path} is not a file.")
        name = unicodedata.normalize("NFC", path.name)
        try:
            check_file_name(name)
        except BadFileName as exc:
            raise SystemExit(f"invigil assignment upload: {exc}; rename {path} first.") from exc
        if same_file_key(name) in names:
            raise SystemExit(
                f"invigil assignment upload: '{names[same_file_key(name)]}' and '{name}' would be the same "
                "file on the candidates' computers; rename one of them."
            )
        names[same_file_key(name)] = name
    if not names:
        raise SystemExit("invigil assignment upload: name at least one file to upload.")
    return list(names.values())


def seal_files(exam_id: str, pin: str, paths: list[Path]) -> Sealed:
    """Seal every file with a key derived from ``pin`` (refused if weak), then check they open."""
    names = check_files(paths)
    key = pinseal.new_key(pin, exam_id)
    out = io.BytesIO()
    for path, name in zip(paths, names, strict=True):
        with open(path, "rb") as src:
            pinseal.seal_stream(src, path.stat().st_size, out, key, name)
    body = out.getvalue()
    for (header, data), path in zip(pinseal.split(body), paths, strict=True):  # open what we send
        if pinseal.open_bytes(data, key, exam_id, header.name) != path.read_bytes():
            raise SystemExit(f"invigil assignment upload: {path} changed while it was being sealed.")
    return Sealed(body, names)


def _ask(prompt: str, what: str, flag: str) -> str:
    if not sys.stdin.isatty():
        raise SystemExit(f"invigil assignment upload: no terminal to ask for the {what}: use {flag}.")
    return input(prompt).strip()


def _secret(file: str | None, prompt: str, confirm: bool, what: str, flag: str) -> str:
    if file:
        lines = Path(file).read_text().splitlines()
        return lines[0].strip() if lines else ""
    if not sys.stdin.isatty():
        raise SystemExit(f"invigil assignment upload: no terminal to ask for the {what}: use {flag}.")
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != first:
        raise SystemExit(f"invigil assignment upload: the two {what}s differ.")
    return first


def read_pin(args: argparse.Namespace) -> str:
    if args.generate_pin:
        pin = pins.generate()
        print(f"Exam PIN (shown once; announce it at the start of the exam): {pin}")
        return pin
    pin = _secret(args.pin_file, "Exam PIN (announced at the start): ", True, "PIN", "--pin-file")
    try:
        pins.check_strength(pin)
    except pins.WeakPin as exc:
        raise SystemExit(f"invigil assignment upload: {exc}") from exc
    return pin


def _refused(r: httpx.Response, doing: str) -> Refused:
    try:
        message = r.json().get("message", r.text[:300])
    except ValueError:
        message = r.text[:300]
    return Refused(f"The {doing} was refused ({r.status_code}): {message}")


def upload(server: str, token: str, exam_id: str, sealed: Sealed) -> dict[str, Any]:
    headers = {
        "Authorization": f"Bearer {token}",
        v1.H_SHA256: hashlib.sha256(sealed.body).hexdigest(),
        "Content-Type": "application/octet-stream",
    }
    url = f"{server.rstrip('/')}/api/v1/staff/exams/{exam_id}/assignment-set"
    r = httpx.put(url, content=sealed.body, headers=headers, timeout=120)
    if r.status_code != 200:
        raise _refused(r, "upload")
    result: dict[str, Any] = r.json()
    return result


def login(server: str, institution: str, email: str, password: str, code: str) -> str:
    r = httpx.post(
        f"{server.rstrip('/')}/api/v1/staff/login",
        json={"institution": institution, "email": email, "password": password, "totp": code},
        timeout=30,
    )
    if r.status_code != 200:
        raise _refused(r, "login")
    return str(r.json()["token"])


def cmd_upload(args: argparse.Namespace) -> int:
    paths = [Path(f) for f in args.files]
    check_files(paths)  # before asking for anything
    pin = read_pin(args)
    password = _secret(
        args.password_file, f"Password for {args.email}: ", False, "password", "--password-file"
    )
    code = args.code or _ask("Code from your authenticator app: ", "code", "--code")
    try:
        token = login(args.server, args.institution, args.email, password, code)
        sealed = seal_files(args.exam, pin, paths)
        result = upload(args.server, token, args.exam, sealed)
    except (Refused, pins.WeakPin) as exc:
        raise SystemExit(f"invigil assignment upload: {exc}") from exc
    except httpx.TransportError as exc:
        raise SystemExit(f"invigil assignment upload: cannot reach {args.server} ({exc}).") from exc
    print(
        f"Assignment {result['status']} for exam {args.exam} (version {result['version']}), sealed with "
        f"argon2id {result['kdf']['memory_kib'] // 1024} MiB × {result['kdf']['iterations']}:"
    )
    for f in result["files"]:
        print(f"  {f['name']}  {f['size']} bytes sealed  sha256 {f['sha256']}")
    print("The server holds ciphertext only. Without the PIN nobody can open it, Invigil included.")
    return 0


def add_parser(sub: Any) -> None:
    s = sub.add_parser("assignment", help="the exam's assignment, sealed with the exam PIN")
    asub = s.add_subparsers(dest="assignment_command", required=True)
    u = asub.add_parser(
        "upload",
        help="seal files with the exam PIN on this machine and upload them (replaces an earlier upload)",
    )
    u.add_argument("--server", required=True, help="e.g. https://invigil.example.edu")
    u.add_argument("--exam", required=True, help="the exam id")
    u.add_argument("--institution", required=True, help="institution short name used at login")
    u.add_argument("--email", required=True, help="your staff login (coordinator or admin)")
    u.add_argument("--password-file", help="read your password from this file instead of asking")
    u.add_argument("--code", help="the code your authenticator app shows now (asked for when not given)")
    g = u.add_mutually_exclusive_group()
    g.add_argument("--pin-file", help="read the exam PIN from this file instead of asking")
    g.add_argument("--generate-pin", action="store_true", help="make a strong PIN and show it once")
    u.add_argument("files", nargs="+", help="the assignment files (names are kept, folders are not)")
    u.set_defaults(func=cmd_upload)
