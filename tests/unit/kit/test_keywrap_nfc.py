"""Passphrases are compared in Unicode NFC, as the browser module compares them."""

from __future__ import annotations

import unicodedata

from invigil.kit.keywrap import unwrap_secret, wrap_secret


def test_composed_and_decomposed_passphrases_are_the_same_passphrase():
    phrase = "Crème brûlée, Ærø"
    nfc, nfd = unicodedata.normalize("NFC", phrase), unicodedata.normalize("NFD", phrase)
    assert nfc != nfd
    wrapped = wrap_secret(b"k" * 32, nfd, iterations=1000, aad=b"aad")
    assert unwrap_secret(wrapped, nfc, aad=b"aad") == b"k" * 32
