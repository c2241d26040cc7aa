"""Exam PINs: how they are typed, how strong they must be, and how to make a good one.

The PIN unlocks the sealed assignment (docs/adr/0007-assignment-pin.md). It is announced in the exam
room, so it is read aloud or copied from a board: like activation codes it uses Crockford base32, and
reading ignores case, spaces and dashes and maps the look-alike letters O→0, I/L→1, U→V. The sealed
files can be attacked offline, so a PIN must carry at least ``MIN_BITS`` bits: 8 symbols with a letter
in them, or 12 digits. ``generate`` makes one of 8 random symbols, printed as two groups of four.
"""

from __future__ import annotations

import itertools
import math
import secrets

from invigil.kit.tokens import _CONFUSABLE, CODE_ALPHABET

MIN_BITS = 39.5  # 8 symbols of 32 (40 bits) or 12 digits (39.9 bits)
MAX_LENGTH = 64
GENERATED_SYMBOLS = 8
_DIGITS = "0123456789"


class WeakPin(ValueError):
    """The PIN is too easy to guess or cannot be typed; the message says how to choose a better one."""


def normalize(pin: str) -> str:
    """What is fed to the KDF: upper case, no spaces or dashes, look-alike letters mapped."""
    if not isinstance(pin, str):
        raise WeakPin("The PIN must be text.")
    raw = "".join(ch for ch in pin.upper() if ch not in " -\t\r\n").translate(_CONFUSABLE)
    if not raw:
        raise WeakPin("The PIN is empty.")
    if len(raw) > MAX_LENGTH:
        raise WeakPin(f"The PIN is longer than {MAX_LENGTH} characters.")
    bad = sorted({ch for ch in raw if ch not in CODE_ALPHABET})
    if bad:
        raise WeakPin(
            f"The PIN may only use letters and digits (it contains {' '.join(repr(c) for c in bad[:5])})."
        )
    return raw


def bits(normalized: str) -> float:
    """An upper bound on the PIN's strength: its length times the bits of its alphabet."""
    per_symbol = math.log2(10) if all(ch in _DIGITS for ch in normalized) else math.log2(len(CODE_ALPHABET))
    return len(normalized) * per_symbol


def check_strength(pin: str) -> str:
    """The normalized PIN, or WeakPin saying why it is refused. Used where a PIN is chosen."""
    raw = normalize(pin)
    if bits(raw) < MIN_BITS:
        raise WeakPin(
            "This PIN is too weak: it could be guessed offline before the exam starts. Use at least "
            "8 letters and digits or 12 digits (about 40 bits), or let Invigil generate one."
        )
    if len(set(raw)) < 5 or _repeats(raw) or _is_run(raw):
        raise WeakPin(
            "This PIN follows a pattern (repeated or consecutive characters) that guessers try first. "
            "Choose a random one, or let Invigil generate one."
        )
    return raw


def generate() -> str:
    """A random PIN of 8 Crockford symbols (40 bits), as ``ABCD-EFGH``."""
    symbols = "".join(secrets.choice(CODE_ALPHABET) for _ in range(GENERATED_SYMBOLS))
    if len(set(symbols)) < 5 or _is_run(symbols):  # astronomically rare; keep the rule honest
        return generate()
    return f"{symbols[:4]}-{symbols[4:]}"


def _repeats(raw: str) -> bool:
    """Made of one shorter block repeated: ABCABCABC, 12341234."""
    return any(len(raw) % n == 0 and raw[:n] * (len(raw) // n) == raw for n in range(1, len(raw) // 2 + 1))


def _is_run(raw: str) -> bool:
    """Every step the same in the alphabet, wrapping around: 12345678, 890123456789, ABCDEFGH…"""
    alphabet = _DIGITS if all(ch in _DIGITS for ch in raw) else CODE_ALPHABET
    positions = [alphabet.index(ch) for ch in raw]
    steps = {(b - a) % len(alphabet) for a, b in itertools.pairwise(positions)}
    return len(steps) == 1
