"""Jinja2 templates (web/templates), autoescaped, answered with the security headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from invigil import __version__
from invigil.web import security

TEMPLATES = Path(__file__).with_name("templates")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["version"] = __version__


def render(name: str, status: int = 200, csp: str = security.PAGE_CSP, **context: Any) -> HTMLResponse:
    """A page for ``who`` (a web.browser.Browser, or None) carries that login's CSRF token, for its
    forms and for htmx (base.html), unless the caller passes another."""
    who = context.get("who")
    if who is not None:
        context.setdefault("csrf_token", who.csrf_token)
    html = _env.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status, headers=security.headers(csp))
