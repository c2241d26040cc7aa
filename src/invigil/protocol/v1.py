"""Agent protocol v1 messages. Imported by the server endpoints and by the agent's client alike."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

PREFIX = "/api/v1/agent"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{7,63}$"
EVENT_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+){0,4}$"

# Headers of an evidence upload (PUT {PREFIX}/evidence/{item_id}).
H_KIND = "Invigil-Kind"
H_SHA256 = "Invigil-Sha256"
H_SIZE = "Invigil-Size"
H_CAPTURED_AT = "Invigil-Captured-At"


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ActivateRequest(_Msg):
    code: str = Field(max_length=64, description="The candidate's personal activation code.")
    session_secret: str = Field(
        min_length=32,
        max_length=128,
        description="Chosen by the agent before activating and kept in its spool; becomes the "
        "session's bearer token. Retrying with the same code and secret is idempotent.",
    )
    agent: dict[str, str] = Field(default_factory=dict, description="Agent version and platform.")
    notice_version: str | None = Field(
        default=None,
        max_length=32,
        description="The version of the exam's privacy notice the candidate read and accepted. Without "
        "it (or with an old one) activation answers 409 `notice` with `notice_version` and `notice_url`: "
        "show that notice, then activate again with its version. The server records which version.",
    )
    candidate_public_key: str = Field(
        min_length=44,
        max_length=44,
        description="Base64 X25519 public key the agent made for the candidate. Every item is sealed to "
        "it as well, so the candidate can open their own data with the secret on their receipt.",
    )

    @field_validator("agent")
    @classmethod
    def _small(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 16 or any(len(k) > 32 or len(v) > 128 for k, v in value.items()):
            raise ValueError("agent info is limited to 16 short fields")
        return value


class ExamInfo(_Msg):
    id: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str


class ExamPublicKey(_Msg):
    kid: str
    public_key: str = Field(description="Base64 X25519 public key.")


class KeySet(_Msg):
    generation: int = Field(description="Changes when the exam's keys are rotated (access revoked).")
    keys: dict[str, ExamPublicKey] = Field(
        description="Retention category -> the key to seal that category's evidence to."
    )


class ActivateResponse(_Msg):
    session_id: str
    candidate: str = Field(description="The candidate's pseudonym; names never travel here.")
    exam: ExamInfo
    keys: KeySet
    policy: dict[str, Any]
    heartbeat_interval_seconds: int
    max_chunk_bytes: int


class Heartbeat(_Msg):
    seq: int = Field(ge=1, description="Strictly increasing per session; older ones are ignored.")
    sent_at: datetime
    phase: Literal["exam", "tail"] = "exam"
    spool_pending: int = Field(default=0, ge=0)


class HeartbeatAck(_Msg):
    state: str
    server_time: datetime
    key_generation: int = Field(description="When it differs from the agent's, GET keys before sealing more.")


class AgentEvent(_Msg):
    id: str = Field(pattern=ID_PATTERN, description="Client-generated, unique within the session.")
    type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=64)
    at: datetime
    score: float | None = Field(default=None, ge=0, le=1)
    severity: Literal["info", "green", "yellow", "red"] | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class EventBatch(_Msg):
    events: list[AgentEvent] = Field(min_length=1)


class EventBatchAck(_Msg):
    accepted: int
    duplicates: int


class UploadStatus(_Msg):
    item_id: str
    status: Literal["missing", "partial", "stored"]
    received: int
    size: int | None = None


class HandinRequest(_Msg):
    handin_id: str = Field(pattern=ID_PATTERN)
    items: list[str] = Field(max_length=1000, description="Ids of the handin_file items.")
    portal_token: str = Field(
        min_length=32, max_length=128, description="Chosen by the agent; opens the student portal."
    )


class Receipt(_Msg):
    body: dict[str, Any]
    signature: str
    signing_key: str
    portal_url: str


class CloseRequest(_Msg):
    reason: Literal["tail_complete", "stopped"] = "tail_complete"
