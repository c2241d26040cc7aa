"""`invigil audit verify` and `invigil audit checkpoint`: is the access log as it was written?

``verify`` walks the hash chain and the signed checkpoints (in the database and in
``<data dir>/audit/checkpoints.jsonl``) and names every place where it breaks; exit status 1 if any.
``checkpoint`` signs the chain's current head now and prints it: keep that line somewhere the
server cannot reach (a ticket, an e-mail to the data-protection officer), and a later rewrite of the
log cannot match it.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def add_parser(sub: Any) -> None:
    s = sub.add_parser("audit", help="the tamper-evident access log: verify it, sign a checkpoint")
    asub = s.add_subparsers(dest="audit_command", required=True)
    v = asub.add_parser("verify", help="check every link and checkpoint; say where the log was changed")
    v.add_argument("--json", action="store_true", help="the report as JSON")
    v.set_defaults(func=cmd_verify)
    c = asub.add_parser(
        "checkpoint", help="sign the chain's head now and print it (keep a copy off the server)"
    )
    c.set_defaults(func=cmd_checkpoint)


def cmd_verify(args: argparse.Namespace) -> int:
    from invigil.audit import chain
    from invigil.cli.common import container
    from invigil.kit import signing

    c = container()
    try:
        with c.uow() as db:
            report = chain.verify(db, c.settings.data_dir, (signing.public_b64(c.signer),))
    finally:
        c.close()
    if args.json:
        doc = {
            "intact": report.intact,
            "entries": report.entries,
            "links": report.links,
            "checkpoints": report.checkpoints,
            "pruned_to_seq": report.pruned_to,
            "findings": [{"where": f.where, "problem": f.problem} for f in report.findings],
        }
        print(json.dumps(doc, indent=2))
    elif report.intact:
        print(
            f"The access log is intact: {report.entries} entries, {report.links} links, "
            f"{report.checkpoints} signed checkpoints"
            + (f"; pruned to the signed checkpoint at seq {report.pruned_to}." if report.pruned_to else ".")
        )
    else:
        print(f"The access log was changed after it was written ({len(report.findings)} findings):")
        for finding in report.findings:
            print(f"  - {finding}")
    return 0 if report.intact else 1


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from invigil.audit import chain
    from invigil.cli.common import container
    from invigil.kit.clock import utcnow

    c = container()
    try:
        with c.uow() as db:
            row = chain.checkpoint(db, c.signer, c.settings.data_dir, utcnow())
            if row is None:
                print("Nothing new to sign: the last checkpoint already covers the whole log.")
                return 0
            line = chain.checkpoint_body(row.seq, row.hash, row.at)
            line.update(public_key=row.public_key, signature=row.signature)
    finally:
        c.close()
    print("Signed. Keep this line somewhere the server cannot change it:")
    print(json.dumps(line))
    return 0
