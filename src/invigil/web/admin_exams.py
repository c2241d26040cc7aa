"""Administration pages for exams: the list, create and edit, and the policy editor.

The policy editor shows every capture source of the catalogue with what it collects and its privacy
cost (exams/privacy_cost.py, the one place for that wording) and a running total that htmx refreshes
as switches change. The rules are the exams service's and the policy model's, as for the API.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from invigil.container import Container
from invigil.exams import access, keys, privacy_cost, service
from invigil.exams import repository as exams_repo
from invigil.exams.retention import parse_retention
from invigil.http import container
from invigil.institutions import service as institutions
from invigil.kit.clock import utcnow
from invigil.kit.errors import DomainError
from invigil.privacy.texts import TEXTS
from invigil.protocol.policy import Policy, field_errors
from invigil.web import browser, templating
from invigil.web.admin_common import (
    checked_form,
    exam_to_manage,
    institution_of,
    local,
    require_office,
    staff_row,
)
from invigil.web.browser import Browser

router = APIRouter(include_in_schema=False)
CATEGORIES: dict[str, str] = TEXTS["en"]["categories"]
ZONES = (
    "Europe/Copenhagen",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Helsinki",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Brussels",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Lisbon",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Warsaw",
    "Europe/Prague",
    "Europe/Tallinn",
    "Europe/Riga",
    "Europe/Vilnius",
    "UTC",
)

CHECKS = (
    "screenshots.enabled",
    "screenshots.all_monitors",
    "webcam.enabled",
    "microphone.enabled",
    "process_snapshots.enabled",
    "browser_history.enabled",
    "handin_folder_backup.enabled",
    "clipboard.clear_at_start_and_end",
    "room_scan.enabled",
    "id_check.enabled",
    "face_verification.enabled",
)
CHOICES = {
    "webcam.mode": ("snapshots", "clips"),
    "microphone.mode": ("detection", "recording"),
    "removable_storage.mode": ("ignore", "record", "block"),
}
NUMBERS = (
    "screenshots.interval.min_seconds",
    "screenshots.interval.max_seconds",
    "webcam.interval.min_seconds",
    "webcam.interval.max_seconds",
    "webcam.clip_seconds",
    "microphone.clip_seconds",
    "process_snapshots.interval_seconds",
    "face_verification.score_bands",
    "max_item_megabytes",
)
LISTS = ("process_snapshots.forbidden", "browser_history.allowed_sites")
MINUTES = {  # form field -> (policy field, the words of its range)
    "tail_minutes": ("tail_period_seconds", "0 to 60 minutes"),
    "offline_minutes": ("allowed_offline_seconds", "0 to 1440 minutes (24 hours)"),
}
_WHOLE = re.compile(r"^\d{1,7}$")


def _put(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *path, last = dotted.split(".")
    for part in path:
        doc = doc.setdefault(part, {})
    doc[last] = value


def _get(doc: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        doc = doc[part]
    return doc


def _sentence(msg: str) -> str:
    msg = msg.strip().rstrip(".")
    return msg[:1].upper() + msg[1:] + "."


def policy_from_form(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The policy document a submitted editor describes, and the problems to show next to fields
    (the field's form name -> message). Messages come from the policy model (protocol/policy.py)."""
    doc: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in CHECKS:
        _put(doc, name, form.get(f"policy.{name}") == "on")
    for name, options in CHOICES.items():
        value = form.get(f"policy.{name}", options[0])
        _put(doc, name, value if value in options else options[0])
    for name in LISTS:
        _put(
            doc, name, [line.strip() for line in form.get(f"policy.{name}", "").splitlines() if line.strip()]
        )
    for name in NUMBERS:
        raw = form.get(f"policy.{name}", "").strip()
        if raw and not _WHOLE.match(raw):
            errors[name] = "Give a whole number."
        elif raw:
            _put(doc, name, int(raw))
    for name, (field, _words) in MINUTES.items():
        raw = form.get(f"policy.{name}", "").strip()
        if raw and not _WHOLE.match(raw):
            errors[name] = "Give a whole number of minutes."
        elif raw:
            doc[field] = int(raw) * 60
    try:
        Policy.model_validate(doc)
    except ValidationError as exc:
        for where, msg in field_errors(exc):
            minutes = next((k for k, (f, _) in MINUTES.items() if f == where), None)
            if minutes:
                errors.setdefault(minutes, f"Must be {MINUTES[minutes][1]}.")
            else:
                errors.setdefault(where or "policy", _sentence(msg))
    return doc, errors


def policy_values(policy: dict[str, Any]) -> dict[str, Any]:
    """The editor's field values for a (valid) policy document."""
    p = Policy.model_validate(policy).model_dump(mode="json")
    v: dict[str, Any] = {name: _get(p, name) for name in (*CHECKS, *CHOICES, *NUMBERS)}
    for name in LISTS:
        v[name] = "\n".join(_get(p, name))
    for name, (field, _words) in MINUTES.items():
        v[name] = str(round(p[field] / 60))
    return v


def form_values(form: dict[str, str]) -> dict[str, Any]:
    """The editor's field values as submitted (to show them again next to their errors)."""
    v: dict[str, Any] = {name: form.get(f"policy.{name}") == "on" for name in CHECKS}
    for name in (*CHOICES, *NUMBERS, *LISTS, *MINUTES):
        v[name] = form.get(f"policy.{name}", "")
    return v


def _summary(doc: dict[str, Any], errors: dict[str, str]) -> privacy_cost.Summary | None:
    if errors:
        return None
    return privacy_cost.summarize(Policy.model_validate(doc))


# -- exam settings ----------------------------------------------------------------------------------
def _local_input(raw: str, tz: ZoneInfo | None) -> datetime | None:
    try:
        naive = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if tz is None or naive.tzinfo is not None:
        return None
    return naive.replace(tzinfo=tz)


def exam_from_form(
    form: dict[str, str],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, str]]:
    """(exam fields, policy document, retention, problems by field)."""
    errors: dict[str, str] = {}
    zone_name = form.get("timezone", "").strip()
    try:
        zone: ZoneInfo | None = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
        errors["timezone"] = f"'{zone_name}' is not a known time zone; use a name like Europe/Copenhagen."
    fields: dict[str, Any] = {
        "title": form.get("title", ""),
        "timezone": zone_name,
        "region": form.get("region"),
    }
    for name, words in (("starts_at", "start"), ("ends_at", "end")):
        when = _local_input(form.get(name, ""), zone)
        if when is None and zone is not None:
            errors[name] = f"Give the {words} as a date and time (in the exam's time zone)."
        fields[name] = when
    retention: dict[str, Any] = {}
    for category in CATEGORIES:
        raw = form.get(f"retention.{category}", "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= 3650:
            errors[f"retention.{category}"] = "Give a number of days from 1 to 3650."
        else:
            retention[category] = int(raw)
    doc, policy_errors = policy_from_form(form)
    errors.update(policy_errors)
    return fields, doc, retention, errors


def _form_page(
    who: Browser,
    *,
    exam: dict[str, Any] | None,
    values: dict[str, Any],
    policy: dict[str, Any],
    retention: dict[str, Any],
    region: str,
    errors: dict[str, str],
    summary: privacy_cost.Summary | None,
    locked: str = "",
    status: int = 200,
) -> HTMLResponse:
    return templating.render(
        "admin_exam_form.html",
        status=status,
        who=who,
        exam=exam,
        f=values,
        v=policy,
        retention=retention,
        categories=CATEGORIES,
        region=region,
        zones=ZONES,
        errors=errors,
        summary=summary,
        sources=privacy_cost.SOURCES,
        timings=privacy_cost.TIMINGS,
        max_total=privacy_cost.MAX_TOTAL,
        locked=locked,
    )


@router.get("/admin/exams")
def exams_page(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request)
    now = utcnow()
    with c.uow() as db:
        exams = [
            {
                "id": e.id,
                "title": e.title,
                "starts": local(e.starts_at, e.timezone),
                "ends": local(e.ends_at, e.timezone),
                "timezone": e.timezone,
                "summary": privacy_cost.summarize(Policy.model_validate(e.policy)),
                "state": "over" if e.ends_at < now else ("running" if e.starts_at <= now else "upcoming"),
            }
            for e in access.visible_exams(db, staff_row(db, who), now)
        ]
    return templating.render("admin_exams.html", who=who, exams=exams)


@router.get("/admin/exams/new")
def new_exam_page(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request)
    with c.uow() as db:
        inst = institution_of(db, who)
        retention = parse_retention(inst.default_retention).model_dump()
        region = inst.region
    defaults = Policy().model_dump(mode="json")
    return _form_page(
        who,
        exam=None,
        values={"title": "", "timezone": "Europe/Copenhagen", "starts_at": "", "ends_at": ""},
        policy=policy_values(defaults),
        retention=retention,
        region=region,
        errors={},
        summary=privacy_cost.summarize(Policy()),
    )


@router.post("/admin/exams/new")
async def create_exam(request: Request, c: Container = Depends(container)) -> Response:
    who = require_office(c, request)
    form = await checked_form(request, who)
    fields, doc, retention, errors = exam_from_form(form)
    status = 422
    region = ""
    exam_id = ""
    if not errors:
        try:
            with c.uow() as db:
                institution = institution_of(db, who)
                # The region's storage must exist on this installation (as for the institution itself).
                institutions.check_region(c.settings, fields["region"] or institution.region)
                exam = service.create_exam(
                    db,
                    institution,
                    policy=doc,
                    retention=retention,
                    created_by=staff_row(db, who),
                    **fields,
                )
                exam_id = exam.id
        except DomainError as exc:
            errors["exam"], status = exc.message, exc.status
    if errors:
        with c.uow() as db:
            region = institution_of(db, who).region
        return _form_page(
            who,
            exam=None,
            values=form,
            policy=form_values(form),
            retention=retention or form_retention(form),
            region=region,
            errors=errors,
            summary=_summary(doc, errors),
            status=status,
        )
    return browser.go(f"/admin/exams/{exam_id}", request)


def form_retention(form: dict[str, str]) -> dict[str, str]:
    return {k: form.get(f"retention.{k}", "") for k in CATEGORIES}


def _exam_view(exam: Any) -> dict[str, Any]:
    return {"id": exam.id, "title": exam.title, "timezone": exam.timezone, "region": exam.region}


@router.get("/admin/exams/{exam_id}/edit")
def edit_exam_page(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request)
    with c.uow() as db:
        exam = exam_to_manage(db, who, exam_id)
        locked = keys.keys_in_use(db, exam.id)
        view = _exam_view(exam)
        values = {
            "title": exam.title,
            "timezone": exam.timezone,
            "starts_at": exam.starts_at.astimezone(ZoneInfo(exam.timezone)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": exam.ends_at.astimezone(ZoneInfo(exam.timezone)).strftime("%Y-%m-%dT%H:%M"),
        }
        policy, retention = exam.policy, parse_retention(exam.retention).model_dump()
    return _form_page(
        who,
        exam=view,
        values=values,
        policy=policy_values(policy),
        retention=retention,
        region=view["region"],
        errors={},
        summary=privacy_cost.summarize(Policy.model_validate(policy)),
        locked="A candidate has already activated this exam: its settings can no longer change."
        if locked
        else "",
    )


@router.post("/admin/exams/{exam_id}/edit")
async def edit_exam(exam_id: str, request: Request, c: Container = Depends(container)) -> Response:
    who = require_office(c, request)
    form = await checked_form(request, who)
    fields, doc, retention, errors = exam_from_form(form)
    status = 422
    fields.pop("region", None)
    with c.uow() as db:
        view = _exam_view(exam_to_manage(db, who, exam_id))
    if not errors:
        try:
            with c.uow() as db:
                exam = exam_to_manage(db, who, exam_id)
                service.update_exam(
                    db,
                    exam,
                    institution_of(db, who),
                    policy=doc,
                    retention=retention,
                    by=who.staff_id,
                    **fields,
                )
        except DomainError as exc:
            errors["exam"], status = exc.message, exc.status
    if errors:
        return _form_page(
            who,
            exam=view,
            values=form,
            policy=form_values(form),
            retention=retention or form_retention(form),
            region=view["region"],
            errors=errors,
            summary=_summary(doc, errors),
            status=status,
        )
    return browser.go(f"/admin/exams/{exam_id}?saved", request)


@router.post("/admin/exams/policy-summary")
async def policy_summary(request: Request, c: Container = Depends(container)) -> HTMLResponse:
    """The running total of the editor, for htmx to swap in as switches change."""
    who = require_office(c, request)
    form = await checked_form(request, who)
    doc, errors = policy_from_form(form)
    return templating.render(
        "_policy_summary.html", summary=_summary(doc, errors), errors=errors, max_total=privacy_cost.MAX_TOTAL
    )


@router.get("/admin/exams/{exam_id}")
def exam_page(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = require_office(c, request)
    with c.uow() as db:
        exam = exam_to_manage(db, who, exam_id)
        roster = exams_repo.roster(db, exam.id)
        view = {
            **_exam_view(exam),
            "starts": local(exam.starts_at, exam.timezone),
            "ends": local(exam.ends_at, exam.timezone),
            "candidates": len(roster),
            "activated": sum(1 for _c, _i, s in roster if s.code_used_at is not None),
            "locked": keys.keys_in_use(db, exam.id),
        }
        summary = privacy_cost.summarize(Policy.model_validate(exam.policy))
        retention = parse_retention(exam.retention).model_dump()
    return templating.render(
        "admin_exam.html",
        who=who,
        exam=view,
        summary=summary,
        retention=retention,
        categories=CATEGORIES,
        max_total=privacy_cost.MAX_TOTAL,
        saved="saved" in request.query_params,
    )
