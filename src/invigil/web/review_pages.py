"""The reviewer workspace (issue 5): one document per exam, ``/exams/{exam_id}/review``.

The page is a shell: every piece of candidate data (cohort, ranking, timeline, flags, evidence,
decisions) is fetched by ``static/review.js`` from the staff JSON API with the login cookie, so the
access rules and access-log entries are the API's own (ADR 0015). Evidence is opened in the page
with the person's key (``static/staff-keys.js``), unlocked once per page.

Who may open it: whoever may read the exam's evidence (``access.Purpose.EVIDENCE``): its reviewers,
and its invigilators during the exam window (read only). Deciding, erasing and the case file are
for reviewers (``access.Purpose.DECIDE``); the API enforces that as well.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from invigil.accounts.models import Role, Staff, StaffKey
from invigil.container import Container
from invigil.exams import access
from invigil.exams import repository as exams_repo
from invigil.http import container
from invigil.kit import reasons
from invigil.kit.clock import iso, utcnow
from invigil.review import service as review
from invigil.web import browser, security, templating
from invigil.web.browser import PageRefused

router = APIRouter(include_in_schema=False)

# What each outcome of review.service.Outcome means, for the person choosing it.
OUTCOMES: dict[review.Outcome, tuple[str, str]] = {
    review.Outcome.NO_ACTION: ("No action", "You looked at it and there is nothing to pursue."),
    review.Outcome.FOLLOW_UP: (
        "Follow up",
        "Talk to the candidate, check with the invigilator, or look again later.",
    ),
    review.Outcome.REPORT: (
        "Report",
        "Refer a suspicion of misconduct to the institution's exam board, who decide what follows.",
    ),
}

REFUSALS = {
    Role.ADMIN: "The review workspace shows flags and evidence. Your role sees the exams' status, not "
    "candidate data (see the access rules in docs/access.md).",
    Role.COORDINATOR: "The review workspace shows flags and evidence. Your role prepares exams and sees "
    "their status, not candidate data: ask the exam's reviewers.",
    Role.EXAMINER: "Your role sees no proctoring data: no flags, screenshots or webcam pictures.",
}
NOT_YOURS = (
    "You are not assigned to this exam as its reviewer (or as its invigilator during the exam), or your "
    "access has ended. Ask the exam's coordinator if you should have access."
)


def workspace_url(exam_id: str) -> str:
    return f"/exams/{exam_id}/review"


@router.get("/exams/{exam_id}/review")
def workspace(exam_id: str, request: Request, c: Container = Depends(container)) -> HTMLResponse:
    who = browser.require(c, request)
    now = utcnow()
    with c.uow() as db:
        staff = db.get(Staff, who.staff_id)
        exam = exams_repo.get(db, exam_id)
        assert staff is not None
        if exam is None or not access.allowed(db, staff, exam, access.Purpose.EVIDENCE, now):
            # The same answer for "no such exam" and "not yours", so ids cannot be probed.
            raise PageRefused(403, "Not a review you can open", REFUSALS.get(Role(who.role), NOT_YOURS))
        may_decide = access.allowed(db, staff, exam, access.Purpose.DECIDE, now)
        key = db.get(StaffKey, who.staff_id)
        facts = {
            "id": exam.id,
            "title": exam.title,
            "starts_at": exam.starts_at,
            "ends_at": exam.ends_at,
            "starts_iso": iso(exam.starts_at),
            "ends_iso": iso(exam.ends_at),
            "timezone": exam.timezone,
        }
    return templating.render(
        "review.html",
        csp=security.EVIDENCE_CSP,
        who=who,
        exam=facts,
        may_decide=may_decide,
        kid=key.kid if key else None,
        idle_ms=c.settings.web_session_idle_seconds * 1000,
        outcomes=[(o.value, *OUTCOMES[o]) for o in review.Outcome],
        min_reason=reasons.MIN_REASON,
    )
