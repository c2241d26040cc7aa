"""`invigil dpia --exam X [--out FILE]`: the exam's draft DPIA (GDPR Art. 35), as Markdown, or as PDF
when FILE ends in .pdf. `invigil privacy-notice --exam X [--lang da]`: what candidates are told."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    d = sub.add_parser("dpia", help="an exam's draft data-protection impact assessment (Markdown or PDF)")
    d.add_argument("--exam", required=True)
    d.add_argument("--out", type=Path, help="write it here (.pdf for PDF, anything else for Markdown)")
    d.set_defaults(func=cmd_dpia)
    n = sub.add_parser("privacy-notice", help="an exam's privacy notice, as candidates read it")
    n.add_argument("--exam", required=True)
    n.add_argument("--lang", default="en", help="en, da, de or sv")
    n.set_defaults(func=cmd_notice)


def _exam_and_institution(c: Any, exam_id: str) -> tuple[Any, Any]:
    from invigil.exams.models import Exam
    from invigil.institutions.models import Institution

    with c.uow() as db:
        exam = db.get(Exam, exam_id)
        if exam is None:
            raise SystemExit(f"No exam {exam_id}.")
        institution = db.get(Institution, exam.institution_id)
        db.expunge_all()
        return exam, institution


def cmd_dpia(args: argparse.Namespace) -> int:
    from invigil.cli.common import container
    from invigil.kit.clock import utcnow
    from invigil.privacy import dpia

    c = container()
    try:
        exam, institution = _exam_and_institution(c, args.exam)
        doc = dpia.build(exam, institution, utcnow())
    finally:
        c.close()
    if args.out and args.out.suffix.lower() == ".pdf":
        args.out.write_bytes(dpia.pdf(doc))
    elif args.out:
        args.out.write_text(dpia.markdown(doc), encoding="utf-8")
    else:
        print(dpia.markdown(doc), end="")
        return 0
    print(f"Written to {args.out}. It is a draft: complete it, ask your DPO, sign.")
    return 0


def cmd_notice(args: argparse.Namespace) -> int:
    from invigil.cli.common import container
    from invigil.privacy import notice

    c = container()
    try:
        facts = notice.facts(*_exam_and_institution(c, args.exam))  # (exam, institution)
    finally:
        c.close()
    print(notice.markdown(notice.render(facts, args.lang)), end="")
    return 0


def add_portal_parser(sub: Any) -> None:
    p = sub.add_parser("portal", help="a candidate's own data")
    psub = p.add_subparsers(dest="portal_command", required=True)
    o = psub.add_parser("open-export", help="open the ZIP from your receipt page with your receipt secret")
    o.add_argument("zip", type=Path)
    o.add_argument("--out", type=Path, required=True, help="folder for the opened files")
    o.add_argument("--secret-file", help="file with the receipt secret (else you are asked)")
    o.set_defaults(func=cmd_open_export)


def cmd_open_export(args: argparse.Namespace) -> int:
    from invigil.cli.common import ask
    from invigil.portal.subject_export import open_export

    secret = ask(args.secret_file, "INVIGIL_RECEIPT_SECRET", "Receipt secret")
    try:
        written = open_export(args.zip, secret, args.out)
    except (ValueError, KeyError, OSError) as exc:
        raise SystemExit(f"Could not open {args.zip}: {exc}") from exc
    print(f"Opened {len(written)} item(s) into {args.out}; report.json lists everything held about you.")
    return 0
