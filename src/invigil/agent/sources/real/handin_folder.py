"""The hand-in folder: created at activation, polled every couple of seconds (modification time and
size, then SHA-256 when they change; no inotify needed), and every saved version of every file backed
up as sealed ``handin_backup`` evidence: ``{"file", "saved_at", "size", "sha256", "content_base64"}``.

A version is backed up once it has stayed the same for one poll (debounce: an editor writing a file in
several steps yields one backup, not a half-written one). Subfolders count; hidden files (editor
locks such as ``.~lock.answer.odt#``) and files larger than the policy's item limit do not.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from invigil.kit.clock import iso, utcnow

log = logging.getLogger("invigil.agent")
POLL_SECONDS = 2.0


@dataclass(frozen=True)
class Seen:
    mtime_ns: int
    size: int


def _files(root: Path) -> dict[str, Seen]:
    out: dict[str, Seen] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith((".", "~$")) for part in rel.parts):
            continue
        try:
            if path.is_file() and not path.is_symlink():
                st = path.stat()
                out[rel.as_posix()] = Seen(st.st_mtime_ns, st.st_size)
        except OSError:
            continue  # removed while we looked
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class HandinFolder:
    """``handin_backup`` evidence; ``capture`` answers one new version, or b"" when there is none."""

    kind = "handin_backup"
    every = POLL_SECONDS  # the runtime polls this often, whatever the policy's interval

    def __init__(self, folder: Path, max_bytes: int = 25 * 1024 * 1024) -> None:
        self.folder, self.max_bytes = folder, max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._pending: dict[str, Seen] = {}  # changed at the last poll: backed up if unchanged at the next
        self._seen: dict[str, Seen] = {}
        self._saved: dict[str, str] = {}  # file -> sha256 of its last backup
        self._ready: deque[bytes] = deque()

    def capture(self) -> bytes:
        if not self._ready:
            self._scan()
        return self._ready.popleft() if self._ready else b""

    def _scan(self) -> None:
        now = _files(self.folder)
        for name, seen in now.items():
            if self._pending.get(name) == seen:  # unchanged for one poll: this version is saved
                del self._pending[name]
                self._backup(name)
            elif self._seen.get(name) != seen:
                self._pending[name] = seen
        for name in set(self._pending) - set(now):
            del self._pending[name]
        self._seen = now

    def _backup(self, name: str) -> None:
        path = self.folder / name
        try:
            digest = _sha256(path)
            if self._saved.get(name) == digest:
                return  # touched, not changed
            if path.stat().st_size > self.max_bytes:
                log.warning("%s is larger than the exam's item limit: not backed up", name)
                return
            data = path.read_bytes()
        except OSError as exc:
            log.warning("could not back up %s: %s", name, exc)
            return
        if hashlib.sha256(data).hexdigest() != digest:
            return  # changed while we read it: the next polls see the new version
        self._saved[name] = digest
        doc = {
            "file": name,
            "saved_at": iso(utcnow()),
            "size": len(data),
            "sha256": digest,
            "content_base64": base64.b64encode(data).decode(),
        }
        self._ready.append(json.dumps(doc).encode())

    def files(self) -> list[bytes]:
        """The folder's files as they are now: the final hand-in (``AgentRuntime(handin_files=...)``)."""
        return [(self.folder / name).read_bytes() for name in sorted(_files(self.folder))]
