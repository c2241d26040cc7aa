"""Agent protocol v1 client over HTTP. The simulated class, the load test and the real agent use it."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx

from invigil.kit.clock import iso
from invigil.protocol import assignment, v1


class TransientError(Exception):
    """Network down, server restarting or busy: try again later; nothing is lost."""


class ProtocolError(Exception):
    """The server refused the request; retrying the same request will not help."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status, self.body = status, body
        super().__init__(f"{status} {body.get('error', '')}: {body.get('message', body)}")

    @property
    def message(self) -> str:
        return str(self.body.get("message", ""))


class NoticeDeclined(ProtocolError):
    """The candidate did not accept the privacy notice: the agent must not start."""

    def __init__(self, message: str) -> None:
        super().__init__(409, {"error": "notice", "message": message})


# Shows the notice and answers whether the candidate accepted it: at once (a terminal prompt) or later
# (a window that waits for a button: the answer is awaited).
NoticeReader = Callable[[dict[str, Any]], bool | Awaitable[bool]]


class AgentClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        language: str = "en",
    ) -> None:
        self.token, self.language = token, language
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": "invigil-agent/0.1"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._auth(), **kwargs.pop("headers", {})}
        try:
            response = await self._http.request(method, v1.PREFIX + path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code < 400:
            return response
        try:
            body = response.json()
        except ValueError:
            body = {"message": response.text[:200]}
        body = body if isinstance(body, dict) else {"message": body}
        # Our own rate limit (wrong activation codes) is a refusal with words for the candidate:
        # retrying at once only hits it again. Any other 429 (a proxy's) and 5xx pass with time.
        limited = response.status_code == 429 and body.get("error") == "too_many_requests"
        if not limited and (response.status_code == 429 or response.status_code >= 500):
            raise TransientError(f"server answered {response.status_code}")
        raise ProtocolError(response.status_code, body)

    async def activate(
        self,
        code: str,
        session_secret: str,
        agent: dict[str, str],
        candidate_public_key: str,
        notice_version: str | None = None,
        read_notice: NoticeReader | None = None,
    ) -> v1.ActivateResponse:
        """Activate. When the server asks for the privacy notice to be accepted first (409 ``notice``),
        fetch it, hand it to ``read_notice`` (the agent's window shows it and answers whether the
        candidate accepted) and activate again with its version; without a reader, or if the
        candidate declines, the ProtocolError stands."""
        for _ in range(3):  # the notice could change between reading and accepting: ask again
            body = v1.ActivateRequest(
                code=code,
                session_secret=session_secret,
                agent=agent,
                candidate_public_key=candidate_public_key,
                notice_version=notice_version,
            )
            try:
                r = await self._send("POST", "/activate", json=body.model_dump(mode="json"))
                return v1.ActivateResponse.model_validate(r.json())
            except ProtocolError as exc:
                if exc.status != 409 or exc.body.get("error") != "notice" or read_notice is None:
                    raise
                notice = await self.privacy_notice(str(exc.body["notice_url"]))
                answer = read_notice(notice)
                if inspect.isawaitable(answer):
                    answer = await answer
                if not answer:
                    raise NoticeDeclined(
                        "The privacy notice was not accepted, so nothing is recorded."
                    ) from exc
                notice_version = str(notice["version"])
        raise ProtocolError(
            409, {"error": "notice", "message": "The privacy notice kept changing; try again."}
        )

    async def privacy_notice(self, url: str, language: str = "") -> dict[str, Any]:
        """The exam's privacy notice (JSON), in the candidate's language where we have it."""
        try:
            r = await self._http.get(url, headers={"Accept-Language": language or self.language})
        except httpx.TransportError as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        if r.status_code != 200:
            raise ProtocolError(r.status_code, {"message": "the privacy notice could not be fetched"})
        notice: dict[str, Any] = r.json()
        return notice

    async def heartbeat(self, hb: v1.Heartbeat) -> v1.HeartbeatAck:
        r = await self._send("POST", "/heartbeat", json=hb.model_dump(mode="json"))
        return v1.HeartbeatAck.model_validate(r.json())

    async def keys(self) -> v1.KeySet:
        r = await self._send("GET", "/keys")
        return v1.KeySet.model_validate(r.json())

    async def events(self, batch: v1.EventBatch) -> v1.EventBatchAck:
        r = await self._send("POST", "/events", json=batch.model_dump(mode="json"))
        return v1.EventBatchAck.model_validate(r.json())

    async def upload_status(self, item_id: str) -> v1.UploadStatus:
        r = await self._send("GET", f"/evidence/{item_id}")
        return v1.UploadStatus.model_validate(r.json())

    async def put_evidence(
        self,
        item_id: str,
        kind: str,
        sha256: str,
        size: int,
        captured_at: datetime,
        body: bytes,
        start: int | None = None,
    ) -> v1.UploadStatus:
        headers = {
            v1.H_KIND: kind,
            v1.H_SHA256: sha256,
            v1.H_SIZE: str(size),
            v1.H_CAPTURED_AT: iso(captured_at) or "",
            "Content-Type": "application/octet-stream",
        }
        if start is not None:
            headers["Content-Range"] = f"bytes {start}-{start + len(body) - 1}/{size}"
        r = await self._send("PUT", f"/evidence/{item_id}", content=body, headers=headers)
        return v1.UploadStatus.model_validate(r.json())

    async def handin(self, req: v1.HandinRequest) -> v1.Receipt:
        r = await self._send("POST", "/handin", json=req.model_dump(mode="json"))
        return v1.Receipt.model_validate(r.json())

    async def close(self) -> str:
        r = await self._send("POST", "/close", json=v1.CloseRequest().model_dump())
        return str(r.json()["state"])

    # -- the sealed assignment (protocol/assignment.py) -------------------------------------------
    async def assignment_manifest(self) -> assignment.AssignmentManifest:
        r = await self._send("GET", "/assignment")
        return assignment.AssignmentManifest.model_validate(r.json())

    async def assignment_file(self, index: int) -> bytes:
        r = await self._send("GET", f"/assignment/files/{index}")
        return r.content

    async def assignment_confirm(self, what: str, digest: str) -> assignment.AssignmentProgress:
        """``what`` is "received" or "opened"; ``digest`` is computed from the files the agent holds."""
        body = assignment.AssignmentConfirm(digest=digest).model_dump()
        r = await self._send("POST", f"/assignment/{what}", json=body)
        return assignment.AssignmentProgress.model_validate(r.json())
