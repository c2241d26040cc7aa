"""One retention run: crypto-shred expired evidence categories (evidence/shredding.py), expire the
records that are not evidence (retention/records.py), then prune the access log to its newest signed
checkpoint (retention/access_log.py). All respect legal holds; all are idempotent, so the hourly
sweeper and `invigil retention run` may overlap safely."""

from __future__ import annotations

from datetime import datetime

from invigil.container import Container
from invigil.evidence import shredding
from invigil.retention import access_log, records


def run(c: Container, now: datetime) -> list[str]:
    """What was destroyed, one line per exam and category."""
    lines = [
        f"exam {d.exam_id} {d.category}: {d.keys} key(s), {d.copies} sealed copies, {d.items} item(s)"
        for d in shredding.run(c, now)
    ]
    lines += [
        f"exam {d.exam_id} {d.category}: " + ", ".join(f"{n} {table}" for table, n in d.rows.items())
        for d in records.run(c, now)
    ]
    with c.uow() as db:
        pruned = access_log.prune(db, c.signer, now)
    if pruned is not None:
        lines.append(
            f"access log: {pruned.deleted} entries up to seq {pruned.up_to_seq} deleted, "
            f"{pruned.kept} kept (their retention has not ended, or they record a deletion)"
        )
    return lines
