"""The deletion certificate of an exam: per data category its retention period, when it fell due,
what was destroyed and when (from the access log's retention entries), what is left and why (a legal
hold, not yet due). Signed with the installation's key, with the audit chain's head at issue, so
that a data-protection officer can check it later against `invigil audit verify`.

It holds counts and times only: no names, no evidence, nothing about any one candidate.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from invigil.audit.models import AccessLogEntry, AuditHead
from invigil.evidence import shredding
from invigil.exams.models import Exam
from invigil.exams.retention import KEY_CATEGORIES, expires_at, parse_retention
from invigil.kit import signing
from invigil.kit.clock import iso
from invigil.retention import holds, records

WHAT = "invigil deletion certificate"
ACCESS_LOG = "access_and_audit_logs"  # pruned to a signed checkpoint (ADR 0022)


def _remaining(db: Session, exam_id: str, category: str) -> dict[str, int]:
    if category in KEY_CATEGORIES:
        return {
            "live_keys": len(shredding.live_keys(db, exam_id, category)),
            "evidence_items": len(shredding.items_left(db, exam_id, category)),
        }
    if category in records.SESSION_RECORDS:
        return {
            m.__tablename__: records.count_for_exam(db, m, exam_id) for m in records.SESSION_RECORDS[category]
        }
    if category == "identity":
        return {"candidate_identities": records.identities_left(db, exam_id)}
    of_exam = select(func.count()).select_from(AccessLogEntry).where(AccessLogEntry.exam_id == exam_id)
    kept = AccessLogEntry.action.like("retention.%")
    return {  # the retention entries stay: they are what this certificate is made from
        "access_log_entries": int(db.scalar(of_exam.where(~kept)) or 0),
        "retention_entries": int(db.scalar(of_exam.where(kept)) or 0),
    }


def build(db: Session, exam: Exam, signer: ed25519.Ed25519PrivateKey, now: datetime) -> dict[str, Any]:
    retention = parse_retention(exam.retention).model_dump()
    held = holds.held(db, exam.id)
    log = list(
        db.scalars(
            select(AccessLogEntry)
            .where(AccessLogEntry.exam_id == exam.id, AccessLogEntry.action.like("retention.%"))
            .order_by(AccessLogEntry.id)
        )
    )
    categories: dict[str, Any] = {}
    for category, days in retention.items():
        due = expires_at(exam.ends_at, exam.retention, category)
        left = _remaining(db, exam.id, category)
        events = [
            {"at": iso(e.at), "action": e.action, **{k: v for k, v in e.detail.items() if k != "category"}}
            for e in log
            if e.detail.get("category") == category
        ]
        if due > now:
            status = "not yet due"
        elif category == ACCESS_LOG and not left["access_log_entries"]:
            status = "destroyed (pruned to a signed checkpoint; the retention entries listed here stay)"
        elif not any(left.values()):
            status = "destroyed"
        elif held.any:
            status = "held: kept while a legal hold is in force"
        elif category == ACCESS_LOG:
            status = "due: pruned at the first retention run after a signed checkpoint covers it"
        else:
            status = "due: destroyed at the next retention run"
        categories[category] = {
            "period_days": days,
            "due": iso(due),
            "status": status,
            "destroyed": events,
            "remaining": left,
        }
    head = db.get(AuditHead, 1)
    body = {
        "what": WHAT,
        "issued_at": iso(now),
        "exam": {"id": exam.id, "title": exam.title, "ends_at": iso(exam.ends_at), "region": exam.region},
        "categories": categories,
        "holds": [
            {
                "placed_at": iso(h.placed_at),
                "released_at": iso(h.released_at),
                "scope": "session" if h.session_id else "exam",
            }
            for h in holds.of_exam(db, exam.id)
        ],
        "audit_chain": {"seq": head.seq if head else 0, "hash": head.hash if head else None},
    }
    return {"body": body, "public_key": signing.public_b64(signer), "signature": signing.sign(signer, body)}


def verify(cert: dict[str, Any]) -> bool:
    return cert.get("body", {}).get("what") == WHAT and signing.verify(
        cert["public_key"], cert["body"], cert["signature"]
    )


def markdown(cert: dict[str, Any]) -> str:
    b = cert["body"]
    lines = [
        f"# Deletion certificate — {b['exam']['title']}",
        "",
        f"Exam `{b['exam']['id']}`, ended {b['exam']['ends_at']}, region {b['exam']['region'] or '—'}. "
        f"Issued {b['issued_at']}.",
        "",
        "| data category | kept for | due | status | destroyed | remaining |",
        "|---|---|---|---|---|---|",
    ]
    for category, c in b["categories"].items():
        destroyed = (
            "; ".join(f"{e['at']} {e['action'].removeprefix('retention.')}" for e in c["destroyed"]) or "—"
        )
        remaining = ", ".join(f"{k} {v}" for k, v in c["remaining"].items() if v) or "nothing"
        cells = [
            category.replace("_", " "),
            f"{c['period_days']} days",
            c["due"],
            c["status"],
            destroyed,
            remaining,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "Legal holds: "
        + (
            ", ".join(
                f"{h['scope']} from {h['placed_at']} to {h['released_at'] or 'now'}" for h in b["holds"]
            )
            or "none"
        )
        + ".",
    ]
    lines += [
        "",
        f"Access log chain at issue: seq {b['audit_chain']['seq']}, hash `{b['audit_chain']['hash']}`.",
        "",
        f"Signed (Ed25519) by `{cert['public_key']}`: `{cert['signature']}`",
        "",
    ]
    return "\n".join(lines)
