"""The security headers of every HTML page, in one place: a strict Content-Security-Policy (our own
scripts and styles only: no inline script, no eval), no caching, no referrer, no framing."""

from __future__ import annotations

# Staff pages: our own modules, stylesheet and API; inline SVG (the enrolment QR code) needs nothing.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# Staff pages that open evidence in the page (ADR 0015) also show the pictures and play the sound
# clips they decrypted themselves: blob: URLs, which only this origin's scripts can make.
EVIDENCE_CSP = PAGE_CSP.replace("img-src 'self' data:", "img-src 'self' data: blob:; media-src blob:")
# The student portal also shows images and plays sound it decrypted itself (blob: URLs) and posts no
# forms.
PORTAL_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src blob:; "
    "media-src blob:; "
    "form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def headers(csp: str = PAGE_CSP) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    }
