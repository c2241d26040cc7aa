"""``invigil evidence export``: open an exam's evidence into a folder, on the key holder's side.

The holder is a person (their key unwrapped with their passphrase) or the institution's offline
recovery key. Items whose category has been shredded are listed as such; nothing can open them.
Every opened item is written to the access log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy.orm import Session

from invigil.audit import service as audit
from invigil.evidence import repository
from invigil.exams import repository as exams_repo
from invigil.exams.keys import open_exam_keys
from invigil.exams.models import Candidate
from invigil.kit import envelope
from invigil.kit.clock import iso, utcnow
from invigil.kit.errors import NotFound
from invigil.sessions.models import ExamSession
from invigil.storage import BlobNotFound, BlobStore

EXTENSIONS = {
    "screenshot": "png",
    "webcam_frame": "jpg",
    "id_photo": "jpg",
    "reference_photo": "jpg",
    "room_scan": "jpg",  # pictures of the room, one after the other
    "webcam_clip": "webp",  # animated (agent/sources/real/webcam.py)
    "audio_clip": "wav",
    "process_snapshot": "json",
    "browser_history": "json",
    "handin_backup": "json",
}


@dataclass
class ExportResult:
    opened: int
    failed: list[dict[str, str]]
    folder: Path


def export_exam(
    db: Session,
    store: BlobStore,
    exam_id: str,
    holder: x25519.X25519PrivateKey,
    out: Path,
    *,
    actor_kind: str = "recovery-key",
    actor_id: str | None = None,
) -> ExportResult:
    exam = exams_repo.get(db, exam_id)
    if exam is None:
        raise NotFound(f"No exam with id {exam_id}.")
    keys = open_exam_keys(db, exam_id, holder)
    actor = actor_id or envelope.key_id(holder.public_key())
    out.mkdir(parents=True, exist_ok=True)
    manifest, failed, opened = [], [], 0
    pseudonyms: dict[str, str] = {}
    for item in repository.stored_for_exam(db, exam_id):
        if item.session_id not in pseudonyms:
            session = db.get(ExamSession, item.session_id)
            candidate = db.get(Candidate, session.candidate_id) if session else None
            pseudonyms[item.session_id] = candidate.pseudonym if candidate else item.session_id
        who = pseudonyms[item.session_id]
        ctx = envelope.Context(exam_id, item.session_id, item.client_id, item.kind)
        try:
            sealed = store.get(item.blob_key)
            key = keys.get(item.exam_kid or "")
            if key is None:
                raise envelope.NotARecipient("no opened exam key matches this item")
            plain = envelope.open_bytes(sealed, key, expected=ctx)
        except (envelope.EnvelopeError, BlobNotFound) as exc:
            failed.append({"item": item.id, "candidate": who, "error": str(exc) or type(exc).__name__})
            continue
        stamp = item.captured_at.strftime("%Y%m%dT%H%M%SZ")
        name = f"{stamp}_{item.kind}_{item.client_id}.{EXTENSIONS.get(item.kind, 'bin')}"
        target = out / who / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(plain)
        opened += 1
        manifest.append(
            {
                "candidate": who,
                "file": f"{who}/{name}",
                "kind": item.kind,
                "captured_at": iso(item.captured_at),
                "sha256_sealed": item.sha256,
                "size_sealed": item.size,
            }
        )
        audit.record(
            db,
            actor_kind=actor_kind,
            actor_id=actor,
            action="evidence.export",
            at=utcnow(),
            exam_id=exam_id,
            session_id=item.session_id,
            item_id=item.id,
        )
    (out / "manifest.json").write_text(
        json.dumps({"exam": exam_id, "title": exam.title, "items": manifest, "failed": failed}, indent=2)
    )
    return ExportResult(opened, failed, out)
