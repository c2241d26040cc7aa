"""Agent protocol v1, the sealed assignment (docs/protocol.md): shared by the server and the agent."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from invigil.kit.envelope import canonical_json

SHA256_PATTERN = r"^[0-9a-f]{64}$"


class _Msg(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssignmentFileInfo(_Msg):
    index: int = Field(ge=0, description="Download it at GET /assignment/files/{index}.")
    name: str
    size: int = Field(ge=0, description="Bytes of the sealed file.")
    sha256: str = Field(pattern=SHA256_PATTERN, description="Of the sealed file.")


class AssignmentManifest(_Msg):
    available: bool = Field(description="False when the exam has no sealed assignment.")
    digest: str | None = Field(default=None, description="Names the version; see `digest`.")
    uploaded_at: datetime | None = None
    kdf: dict[str, int] | None = Field(
        default=None, description="argon2id memory_kib, iterations, parallelism."
    )
    salt: str | None = None
    check: str | None = None
    files: list[AssignmentFileInfo] = Field(default_factory=list)


class AssignmentConfirm(_Msg):
    digest: str = Field(pattern=SHA256_PATTERN, description="Computed by the agent from what it holds.")


class AssignmentProgress(_Msg):
    received_at: datetime | None
    opened_at: datetime | None


def digest(files: Iterable[tuple[str, int, str]]) -> str:
    """One name for a version of an assignment set: SHA-256 of its (name, size, sha256) list."""
    listing = [{"name": n, "size": size, "sha256": sha} for n, size, sha in files]
    return hashlib.sha256(canonical_json(listing)).hexdigest()
