"""File names that travel from a coordinator's folder to every candidate's: one safe rule for all.

A name is a single path component that every common filesystem (Windows, macOS, Linux) accepts as is:
no folders, no '..', no hidden or reserved names, no characters Windows forbids, no control characters,
in Unicode NFC. Two names that differ only in case are the same file on Windows and macOS, so
``same_file_key`` is what duplicates are checked by.
"""

from __future__ import annotations

import unicodedata

MAX_CHARS = 120
MAX_BYTES = 255
_FORBIDDEN = set('/\\:*?"<>|')
_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


class BadFileName(ValueError):
    """The name cannot be used as an assignment file name; the message says why."""


def check_file_name(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise BadFileName("a file name cannot be empty")
    shown = repr(name[:60])
    if len(name) > MAX_CHARS or len(name.encode()) > MAX_BYTES:
        raise BadFileName(f"the file name {shown} is longer than {MAX_CHARS} characters")
    if unicodedata.normalize("NFC", name) != name:
        raise BadFileName(f"the file name {shown} is not in Unicode NFC form")
    if any(ch in _FORBIDDEN for ch in name) or name in (".", ".."):
        raise BadFileName(
            f"the file name {shown} contains a folder or a character not allowed in file names "
            '(/ \\ : * ? " < > |); use plain file names'
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in name):
        raise BadFileName(f"the file name {shown} contains control characters")
    if name.startswith(".") or name.startswith(" ") or name.endswith((" ", ".")):
        raise BadFileName(f"the file name {shown} starts with a dot or a space, or ends with one")
    if name.split(".")[0].strip().upper() in _RESERVED:
        raise BadFileName(f"the file name {shown} is reserved on Windows")
    return name


def same_file_key(name: str) -> str:
    """Names equal under this key would overwrite each other on a case-insensitive filesystem."""
    return unicodedata.normalize("NFC", name.casefold())
