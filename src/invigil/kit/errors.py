"""Domain errors carry their HTTP status and a message a person can act on."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, **self.detail}


class BadRequest(DomainError):
    status, code = 400, "bad_request"


class Unauthorized(DomainError):
    status, code = 401, "unauthorized"


class Forbidden(DomainError):
    status, code = 403, "forbidden"


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


class Gone(DomainError):
    status, code = 410, "gone"


class PayloadTooLarge(DomainError):
    status, code = 413, "payload_too_large"


class Invalid(DomainError):
    status, code = 422, "invalid"


class TooManyRequests(DomainError):
    status, code = 429, "too_many_requests"


class ServiceUnavailable(DomainError):
    status, code = 503, "unavailable"
