"""`invigil retention run` (destroy what has expired, now) and `invigil retention certificate`
(the signed record of what an exam's data became)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    s = sub.add_parser("retention", help="retention: destroy what has expired; deletion certificates")
    rsub = s.add_subparsers(dest="retention_command", required=True)
    rsub.add_parser("run", help="destroy every category whose retention has ended, now").set_defaults(
        func=cmd_run
    )
    c = rsub.add_parser("certificate", help="an exam's signed deletion certificate (JSON or Markdown)")
    c.add_argument("--exam", required=True)
    c.add_argument("--markdown", action="store_true", help="a readable table instead of JSON")
    c.add_argument("--out", type=Path, help="write it here instead of printing it")
    c.set_defaults(func=cmd_certificate)


def cmd_run(args: argparse.Namespace) -> int:
    from invigil.cli.common import container
    from invigil.kit.clock import utcnow
    from invigil.retention import engine

    c = container()
    try:
        done = engine.run(c, utcnow())
    finally:
        c.close()
    for line in done:
        print(line)
    print(f"{len(done)} category(ies) destroyed.")
    return 0


def cmd_certificate(args: argparse.Namespace) -> int:
    from invigil.cli.common import container
    from invigil.exams.models import Exam
    from invigil.kit.clock import utcnow
    from invigil.retention import certificate

    c = container()
    try:
        with c.uow() as db:
            exam = db.get(Exam, args.exam)
            if exam is None:
                raise SystemExit(f"No exam {args.exam}.")
            cert = certificate.build(db, exam, c.signer, utcnow())
    finally:
        c.close()
    text = certificate.markdown(cert) if args.markdown else json.dumps(cert, indent=2) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        print(f"Written to {args.out}.")
    else:
        print(text, end="")
    return 0
