"""The student portal page in one language, from the report (portal/report.py): what the template
shows, with times in the exam's time zone and every word from portal/texts.py. No database here: the
page shows exactly what the report holds, and nothing else."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from invigil.portal import texts
from invigil.privacy import notice
from invigil.privacy.texts import LANGUAGES

# The order of the "What was recorded" groups: what a student recognises first.
KIND_ORDER = (
    "screenshot",
    "webcam_frame",
    "webcam_clip",
    "room_scan",
    "id_photo",
    "reference_photo",
    "audio_clip",
    "process_snapshot",
    "browser_history",
    "handin_backup",
    "handin_file",
)


class Clock:
    """ISO times from the report as the exam's wall-clock time: 2026-11-22 14:05."""

    def __init__(self, timezone: str | None) -> None:
        try:
            self.zone = ZoneInfo(timezone or "UTC")
        except (ZoneInfoNotFoundError, ValueError):
            self.zone = ZoneInfo("UTC")
        self.name = str(self.zone)

    def local(self, value: str | None) -> datetime | None:
        if not value:
            return None
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(self.zone)

    def minute(self, value: str | None) -> str:
        at = self.local(value)
        return at.strftime("%Y-%m-%d %H:%M") if at else ""

    def second(self, value: str | None) -> str:
        at = self.local(value)
        return at.strftime("%Y-%m-%d %H:%M:%S") if at else ""

    def date(self, value: str | None) -> str:
        at = self.local(value)
        return at.strftime("%Y-%m-%d") if at else ""


def deleted_on(doc: dict[str, Any]) -> str | None:
    """When everything recorded was deleted (the last deletion), or None while anything is held.

    Retention crypto-shreds whole categories and a reviewer may erase single items; both mark the
    item (status ``shredded`` or ``erased``, ``deleted_at``). Flags and decisions have their own
    retention: while any is left, the student sees the whole page, recordings listed as deleted.
    Nothing recorded at all is not a deletion.
    """
    items = doc["items"]
    if not items or any(i["status"] == "stored" for i in items) or doc["flags"] or doc["decisions"]:
        return None
    return max((i["deleted_at"] or "" for i in items), default="") or None


def deleted_page(doc: dict[str, Any], lang: str) -> dict[str, Any]:
    clock = Clock(doc["exam"].get("timezone"))
    t = texts.strings(lang)
    before, _, after = t["deleted_text"].partition("{date}")
    return {"before": before, "date": clock.date(deleted_on(doc)), "after": after, "t": t}


def languages(lang: str) -> list[dict[str, Any]]:
    return [{"code": code, "name": texts.LANGUAGE_NAMES[code], "current": code == lang} for code in LANGUAGES]


def _who(entry: str, t: dict[str, str]) -> str:
    """The report's "who" ("you", "reviewer 3fa2c1", "worker 0c1d2e", "system") in words."""
    if entry == "you":
        return t["who_you"]
    role, _, ref = entry.partition(" ")
    name = t.get(f"who_{role}", t["who_staff"])
    return f"{name} ({t['who_ref'].format(ref=ref)})" if ref else name


def _accessed(doc: dict[str, Any], clock: Clock, t: dict[str, str]) -> list[dict[str, Any]]:
    """The access log, latest first; the same person doing the same thing in the same minute (opening
    forty screenshots, say) is one row with a count."""
    rows: list[dict[str, Any]] = []
    for a in doc["accessed"]:
        row = {
            "time": clock.minute(a["at"]),
            "who": _who(a["who"], t),
            "what": t.get(f"act_{a['action']}", t["act_other"]),
            "times": 1,
        }
        last = rows[-1] if rows else None
        if last and all(last[k] == row[k] for k in ("time", "who", "what")):
            last["times"] += 1
        else:
            rows.append(row)
    return rows[::-1]


def _items(doc: dict[str, Any], clock: Clock, t: dict[str, str]) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for i in doc["items"]:
        groups.setdefault(i["kind"], []).append(
            {
                "id": i["id"],
                "client_id": i["client_id"],
                "kind": i["kind"],
                "stored": i["status"] == "stored",
                "time": clock.second(i["captured_at"]),
                "deleted": t["item_deleted"].format(date=clock.minute(i["deleted_at"]))
                if i["status"] != "stored"
                else "",
            }
        )
    order = [k for k in KIND_ORDER if k in groups] + sorted(k for k in groups if k not in KIND_ORDER)
    return [
        {
            "kind": kind,
            "heading": t.get(f"kind_{kind}", kind.replace("_", " ")),
            "count": len(groups[kind]),
            "items": groups[kind],
        }
        for kind in order
    ]


def _course(doc: dict[str, Any], clock: Clock, t: dict[str, str]) -> list[dict[str, str]]:
    s = doc["session"]
    events: list[tuple[str, str]] = []
    accepted = s["privacy_notice_accepted"]
    if accepted["at"]:
        events.append((accepted["at"], t["ev_notice"].format(version=accepted["version"])))
    if s["activated_at"]:
        events.append((s["activated_at"], t["ev_activated"]))
    for p in s["offline_periods"]:
        text = t["ev_offline"].format(end=clock.minute(p["end"])) if p["end"] else t["ev_offline_open"]
        events.append((p["start"], text))
    if s["handed_in_at"]:
        events.append((s["handed_in_at"], t["ev_handed_in"]))
    if s["closed_at"]:
        events.append((s["closed_at"], t["ev_closed"]))
    events.sort(key=lambda e: clock.local(e[0]) or datetime.min)
    return [{"time": clock.minute(at), "text": text} for at, text in events]


def _notice(doc: dict[str, Any], clock: Clock, lang: str, t: dict[str, str]) -> dict[str, Any]:
    current = doc["privacy_notice"]
    accepted = doc["session"]["privacy_notice_accepted"]
    rendered = notice.render(current["facts"], lang)
    lines = []
    if accepted["at"]:
        lines.append(
            t["notice_accepted"].format(version=accepted["version"], date=clock.minute(accepted["at"]))
        )
        if accepted["version"] != current["version"]:
            lines.append(t["notice_changed"].format(version=current["version"]))
    else:
        lines.append(t["notice_not_accepted"])
    return {"status": lines, "title": rendered["title"], "sections": rendered["sections"]}


def page(doc: dict[str, Any], receipt: dict[str, Any], lang: str, token: str) -> dict[str, Any]:
    """Everything portal.html shows, in ``lang``."""
    t = texts.strings(lang)
    clock = Clock(doc["exam"].get("timezone"))
    groups = _items(doc, clock, t)
    script_items = [
        {k: i[k] for k in ("id", "client_id", "kind", "time")}
        for g in groups
        for i in g["items"]
        if i["stored"]
    ]
    return {
        "t": t,
        "exam_title": doc["exam"]["title"],
        "pseudonym": doc["candidate"],
        "handed_in": clock.minute(doc["session"]["handed_in_at"]),
        "time_zone": t["time_zone"].format(tz=clock.name),
        "groups": groups,
        "course": _course(doc, clock, t),
        "flags": [
            {
                "time": clock.minute(f["start"]),
                "what": t.get(f"b_{f['behaviour']}", f["behaviour"]),
                "level": t.get(f"severity_{f['severity']}", f["severity"]),
                "severity": f["severity"],
                "by": t.get(f"source_{f['source']}", f["source"]),
            }
            for f in doc["flags"]
        ],
        "decisions": [
            {
                "time": clock.minute(d["at"]),
                "outcome": t.get(f"outcome_{d['outcome']}", d["outcome"]),
                "reason": d["reason"],
            }
            for d in doc["decisions"]
        ],
        "accessed": _accessed(doc, clock, t),
        "notice": _notice(doc, clock, lang, t),
        "receipt_files": [
            {"sha256": f["sha256"], "size": t["bytes"].format(n=int(f["size"]))} for f in receipt["files"]
        ],
        "evidence_received": t["evidence_received"].format(n=int(receipt["evidence_items_received"])),
        "script": {
            "token": token,
            "exam": doc["exam"]["id"],
            "session": doc["session_id"],
            "kid": doc["candidate_kid"],
            "timezone": clock.name,
            "items": script_items,
            "t": texts.script_strings(lang),
        },
    }
