"""The candidate's copy of everything held about them (GDPR Art. 15), as a ZIP file.

The ZIP holds ``report.json`` (portal/report.py: what was collected and what became of it, flags,
decisions, who opened the data, the privacy notice), every item still stored as its sealed envelope
(``sealed/<item>.<kind>``), a README in the four languages, and ``open.html`` with the crypto module
inlined, so that the student can open the items in a browser, offline, with their receipt secret. ``open``
does the same in Python (``invigil portal open-export``). The server never sees the secret.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

from invigil.evidence.export import EXTENSIONS
from invigil.kit import envelope
from invigil.kit.candidate_secret import private_from_secret
from invigil.portal import texts

README = """Your exam data / Dine eksamensdata / Ihre Prüfungsdaten / Dina tentamensuppgifter

EN  report.json lists everything collected about you in this exam, what became of it, the flags and
    decisions about you, and who opened your data and when. The files in sealed/ are encrypted: open
    them with the secret on your hand-in receipt, in open.html (offline, in your browser) or with
    `invigil portal open-export <this file>`.
DA  report.json viser alt, der er indsamlet om dig ved denne eksamen, hvad der er sket med det,
    markeringer og afgørelser, og hvem der har set dine data og hvornår. Filerne i sealed/ er
    krypterede: åbn dem med koden på din afleveringskvittering i open.html (offline, i din browser).
DE  report.json listet alles auf, was in dieser Prüfung über Sie erfasst wurde, was daraus wurde, die
    Markierungen und Entscheidungen und wer Ihre Daten wann geöffnet hat. Die Dateien in sealed/ sind
    verschlüsselt: Öffnen Sie sie mit dem Geheimnis auf Ihrer Abgabequittung in open.html (offline).
SV  report.json visar allt som samlats in om dig vid den här tentamen, vad som hänt med det,
    markeringar och beslut, och vem som öppnat dina uppgifter och när. Filerna i sealed/ är
    krypterade: öppna dem med hemligheten på ditt inlämningskvitto i open.html (offline).
"""
STATIC = resources.files("invigil.web") / "static"


def sealed_name(entry: dict[str, Any]) -> str:
    return f"sealed/{entry['client_id']}.{entry['kind']}"


def build(report: dict[str, Any], sealed: list[tuple[dict[str, Any], bytes]], lang: str = "en") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", README)
        z.writestr("report.json", json.dumps(report, indent=2, ensure_ascii=False))
        for entry, data in sealed:
            z.writestr(sealed_name(entry), data, compress_type=zipfile.ZIP_STORED)  # ciphertext: no gain
        z.writestr("open.html", opener_page(lang))
    return out.getvalue()


def opener_page(lang: str = "en") -> str:
    """One self-contained page (file:// pages cannot load modules): the crypto module inlined, and
    its words in the language the student chose on the portal page (portal/texts.py)."""
    crypto = re.sub(r"(?m)^export ", "", (STATIC / "invigil-crypto.js").read_text(encoding="utf-8"))
    lang = lang if lang in texts.LANGUAGE_NAMES else "en"
    t = texts.strings(lang)
    words = {k: t[k] for k in (*texts.OPENER, *texts.OPENER_KINDS)}
    script = "const T = " + json.dumps(words, ensure_ascii=False).replace("</", "<\\/") + ";"
    page = (STATIC / "export-opener.html").read_text(encoding="utf-8")
    page = re.sub(r"@@(\w+)@@", lambda m: html.escape(lang if m[1] == "lang" else t[m[1]]), page)
    return page.replace("/*WORDS*/", script).replace("/*CRYPTO*/", crypto)


def open_export(zip_path: Path, secret: str, out_dir: Path) -> list[Path]:
    """Decrypt every sealed item of an export into ``out_dir``; ValueError names what went wrong."""
    key = private_from_secret(secret)
    written: list[Path] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as z:
        report = json.loads(z.read("report.json"))
        if report.get("candidate_kid") and report["candidate_kid"] != envelope.key_id(key.public_key()):
            raise ValueError("This secret belongs to another receipt.")
        for entry in report["items"]:
            if entry["status"] != "stored":
                continue
            exam, session = report["exam"]["id"], report["session_id"]
            ctx = envelope.Context(exam, session, entry["client_id"], entry["kind"])
            plaintext = envelope.open_bytes(z.read(sealed_name(entry)), key, ctx)
            stamp = entry["captured_at"].replace(":", "").replace("-", "")[:15]
            extension = EXTENSIONS.get(entry["kind"], "bin")
            path = out_dir / f"{stamp}_{entry['kind']}_{entry['client_id']}.{extension}"
            path.write_bytes(plaintext)
            written.append(path)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return written
