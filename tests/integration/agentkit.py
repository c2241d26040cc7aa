"""A tiny synchronous protocol driver for tests: activate, seal, upload, hand in."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import x25519

from invigil.kit import envelope
from invigil.kit.clock import iso, utcnow
from invigil.protocol import v1
from invigil.protocol.policy import CATEGORY_OF_KIND


def new_candidate_key() -> x25519.X25519PrivateKey:
    return x25519.X25519PrivateKey.generate()


def public_b64(key: x25519.X25519PrivateKey) -> str:
    return envelope.b64e(envelope.raw_public(key.public_key()))


def activation_body(
    code: str, secret: str, candidate: x25519.X25519PrivateKey | None = None
) -> dict[str, str]:
    return {
        "code": code,
        "session_secret": secret,
        "candidate_public_key": public_b64(candidate or new_candidate_key()),
    }


@dataclass
class Agent:
    http: httpx.Client
    secret: str
    act: dict[str, Any]
    candidate: x25519.X25519PrivateKey

    @property
    def session_id(self) -> str:
        return str(self.act["session_id"])

    @property
    def exam_id(self) -> str:
        return str(self.act["exam"]["id"])

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secret}"}

    def seal(
        self, kind: str, data: bytes, item_id: str | None = None, session_id: str | None = None
    ) -> tuple[str, bytes]:
        item_id = item_id or uuid.uuid4().hex
        ctx = envelope.Context(self.exam_id, session_id or self.session_id, item_id, kind)
        return item_id, envelope.seal_bytes(data, ctx, self.recipients(kind))

    def exam_key(self, kind: str) -> x25519.X25519PublicKey:
        entry = self.act["keys"]["keys"][CATEGORY_OF_KIND[kind]]
        return envelope.public_key_from_b64(entry["public_key"])

    def recipients(self, kind: str) -> list[x25519.X25519PublicKey]:
        """What a real agent seals to: the exam's key for the kind's category, and the candidate's."""
        return [self.exam_key(kind), self.candidate.public_key()]

    def put(
        self,
        item_id: str,
        kind: str,
        body: bytes,
        *,
        sha: str | None = None,
        size: int | None = None,
        content_range: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        h = {
            v1.H_KIND: kind,
            v1.H_SHA256: sha or hashlib.sha256(body).hexdigest(),
            v1.H_SIZE: str(len(body) if size is None else size),
            v1.H_CAPTURED_AT: iso(utcnow()) or "",
            **self.auth(),
            **(headers or {}),
        }
        if content_range:
            h["Content-Range"] = content_range
        return self.http.put(f"{v1.PREFIX}/evidence/{item_id}", content=body, headers=h)

    def upload(self, kind: str, data: bytes) -> str:
        item_id, sealed = self.seal(kind, data)
        r = self.put(item_id, kind, sealed)
        assert r.status_code == 201, r.text
        return item_id

    def heartbeat(self, seq: int, phase: str = "exam") -> httpx.Response:
        return self.http.post(
            f"{v1.PREFIX}/heartbeat",
            json={"seq": seq, "sent_at": iso(utcnow()), "phase": phase},
            headers=self.auth(),
        )

    def handin(
        self, items: list[str], handin_id: str | None = None, portal: str | None = None
    ) -> httpx.Response:
        body = {
            "handin_id": handin_id or uuid.uuid4().hex,
            "items": items,
            "portal_token": portal or secrets.token_urlsafe(32),
        }
        return self.http.post(f"{v1.PREFIX}/handin", json=body, headers=self.auth())


def post_activation(http: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    """POST /activate as an agent does: if the server asks for the privacy notice to be accepted
    first (409 ``notice``), accept the version it names and activate again."""
    r = http.post(f"{v1.PREFIX}/activate", json=body)
    if r.status_code == 409 and r.json().get("error") == "notice":
        r = http.post(f"{v1.PREFIX}/activate", json={**body, "notice_version": r.json()["notice_version"]})
    return r


def activate(
    http: httpx.Client, code: str, secret: str | None = None, candidate: x25519.X25519PrivateKey | None = None
) -> Agent:
    secret = secret or secrets.token_urlsafe(32)
    candidate = candidate or new_candidate_key()
    r = post_activation(http, activation_body(code, secret, candidate))
    assert r.status_code == 200, r.text
    return Agent(http, secret, r.json(), candidate)
