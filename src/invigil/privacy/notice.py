"""The privacy notice of an exam, generated from its policy, retention and the institution's privacy
settings, in English, Danish, German and Swedish.

``facts`` gathers what the notice says, independent of language; ``version`` is a hash of those facts
(and of the text's revision), so a candidate's acknowledgement names exactly what they were shown:
change the policy, the retention or the controller's details and the version changes. ``render``
puts the facts into one language; ``markdown`` makes a page of it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from typing import Any, Protocol

from invigil.exams.retention import parse_retention
from invigil.privacy.texts import LANGUAGES, TEXTS
from invigil.protocol.policy import Policy, parse_policy

TEXT_REVISION = 1  # bump when the wording changes: acknowledgements of the old text stay valid as records


def collected(policy: Policy) -> list[tuple[str, dict[str, Any]]]:
    """(source, parameters) for every capture source the policy switches on, in catalogue order."""
    out: list[tuple[str, dict[str, Any]]] = []
    if policy.screenshots.enabled:
        i = policy.screenshots.interval
        out.append(("screenshots", {"min": i.min_seconds, "max": i.max_seconds}))
    if policy.webcam.enabled:
        i = policy.webcam.interval
        key = "webcam_clips" if policy.webcam.mode == "clips" else "webcam"
        out.append((key, {"min": i.min_seconds, "max": i.max_seconds, "clip": policy.webcam.clip_seconds}))
    if policy.microphone.enabled:
        out.append((f"microphone_{policy.microphone.mode}", {"clip": policy.microphone.clip_seconds}))
    if policy.process_snapshots.enabled:
        out.append(("process_snapshots", {"every": policy.process_snapshots.interval_seconds}))
    if policy.browser_history.enabled:
        out.append(("browser_history", {}))
    if policy.handin_folder_backup.enabled:
        out.append(("handin_folder_backup", {}))
    if policy.removable_storage.mode != "ignore":
        out.append(("removable_storage", {}))
    if policy.clipboard.clear_at_start_and_end:
        out.append(("clipboard", {}))
    if policy.room_scan.enabled:
        out.append(("room_scan", {}))
    if policy.id_check.enabled:
        out.append(("id_check", {}))
    if policy.face_verification.enabled:
        out.append(("face_verification", {}))
    return out


class ExamSettings(Protocol):
    """What the notice says of an exam: an ``Exam``, or a row with these columns."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def policy(self) -> dict[str, Any]: ...
    @property
    def retention(self) -> dict[str, Any]: ...


class ControllerSettings(Protocol):
    """What the notice says of the institution: an ``Institution``, or a row with these columns."""

    @property
    def name(self) -> str: ...
    @property
    def region(self) -> str: ...
    @property
    def dpo_contact(self) -> str: ...
    @property
    def privacy(self) -> dict[str, Any]: ...


def facts(exam: ExamSettings, institution: ControllerSettings) -> dict[str, Any]:
    policy = parse_policy(exam.policy)
    privacy = institution.privacy or {}
    return {
        "revision": TEXT_REVISION,
        "exam": {"id": exam.id, "title": exam.title},
        "controller": privacy.get("controller") or institution.name,
        "dpo_contact": institution.dpo_contact or "",
        "legal_basis": privacy.get("legal_basis") or "",
        "complaint_authority": privacy.get("complaint_authority") or "",
        "region": exam.region or institution.region,
        "collected": [[source, params] for source, params in collected(policy)],
        "tail_minutes": round(policy.tail_period_seconds / 60),
        "offline_minutes": round(policy.allowed_offline_seconds / 60),
        "retention_days": parse_retention(exam.retention).model_dump(),
    }


def version(f: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(f, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


_versions: dict[str, str] = {}  # the settings a version is made of, serialized -> that version
_versions_lock = threading.Lock()


def current_version(exam: ExamSettings, institution: ControllerSettings) -> str:
    """``version(facts(exam, institution))``, remembered per set of settings: activation asks on every
    attempt (twice per candidate), and building the facts validates the whole policy. Keyed by the
    settings themselves, not by exam, so a changed setting is a new key and never a stale answer."""
    settings = [exam.id, exam.title, exam.region, exam.policy, exam.retention]
    controller = [institution.name, institution.region, institution.dpo_contact, institution.privacy]
    key = json.dumps(
        [settings, controller],
        sort_keys=True,
        default=str,
    )
    known = _versions.get(key)
    if known is None:
        known = version(facts(exam, institution))
        with _versions_lock:
            if len(_versions) >= 1000:  # one entry per exam in use; start over beyond that
                _versions.clear()
            _versions[key] = known
    return known


def language(wanted: str | None) -> str:
    """The best of our languages for an Accept-Language value or a code; English otherwise."""
    for part in (wanted or "").replace(" ", "").split(","):
        code = part.split(";")[0].split("-")[0].lower()
        if code in LANGUAGES:
            return code
    return "en"


def render(f: dict[str, Any], lang: str) -> dict[str, Any]:
    """The notice in one language: a title and sections of paragraphs and bullet items."""
    t = TEXTS[language(lang)]
    unknown = t["not_set"]
    sources = [t["sources"][source].format(**params) for source, params in f["collected"]]
    days = f["retention_days"]
    kept = [t["retention_line"].format(what=t["categories"][k], days=v) for k, v in days.items()]
    sections = [
        {
            "heading": t["h_who"],
            "paragraphs": [t["who"].format(controller=f["controller"], dpo=f["dpo_contact"] or unknown)],
        },
        {
            "heading": t["h_why"],
            "paragraphs": [t["why"], t["basis"].format(basis=f["legal_basis"] or unknown)],
        },
        {
            "heading": t["h_what"],
            "paragraphs": [t["what_intro"]],
            "items": [*sources, t["always"]],
        },
        {
            "heading": t["h_when"],
            "paragraphs": [t["when"].format(tail=f["tail_minutes"], offline=f["offline_minutes"])],
        },
        {"heading": t["h_flags"], "paragraphs": [t["flags"]]},
        {"heading": t["h_access"], "paragraphs": [t["access"]]},
        {"heading": t["h_where"], "paragraphs": [t["where"].format(region=f["region"])]},
        {"heading": t["h_how_long"], "paragraphs": [t["how_long"]], "items": kept},
        {
            "heading": t["h_rights"],
            "paragraphs": [t["rights"], t["complaint"].format(authority=f["complaint_authority"] or unknown)],
        },
    ]
    return {
        "language": language(lang),
        "version": version(f),
        "title": t["title"].format(exam=f["exam"]["title"]),
        "acknowledge": t["acknowledge"],
        "sections": sections,
    }


def markdown(notice: dict[str, Any]) -> str:
    lines = [f"# {notice['title']}", ""]
    for s in notice["sections"]:
        lines += [f"## {s['heading']}", ""]
        for p in s.get("paragraphs", []):
            lines += [p, ""]
        if s.get("items"):
            lines += [f"- {item}" for item in s["items"]] + [""]
    lines += [f"*{notice['acknowledge']}* (version `{notice['version']}`)", ""]
    return "\n".join(lines)
