"""Key custody from the command line: a person's key, grants, revocation, recovery-key rotation,
and opening evidence with a person's key.

These commands open keys, so they run on the key holder's side of the trust boundary: run them on
an administrator's machine with access to the database, not as part of the server. Passphrases come
from a prompt or a file (``--passphrase-file``), never from the command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519
from sqlalchemy.orm import Session

from invigil.cli.common import ask, container


def _person(db: Session, institution_slug: str | None, email: str) -> Any:
    from invigil.accounts import repository as accounts_repo
    from invigil.institutions import service as institutions

    institution = institutions.by_slug(db, institution_slug) if institution_slug else institutions.only(db)
    if institution is None:
        raise SystemExit("Name the institution with --institution (several or none exist).")
    person = accounts_repo.by_email(db, institution.id, email)
    if person is None:
        raise SystemExit(f"No staff account for {email}.")
    return person


def _open_person_key(db: Session, person: Any, passphrase_file: str | None) -> x25519.X25519PrivateKey:
    from invigil.exams.keys import staff_key
    from invigil.kit.keywrap import KeyFileError, WrongPassphrase, unwrap_staff_key

    row = staff_key(db, person.id)
    if row is None:
        raise SystemExit(f"{person.email} has no personal key yet: run `invigil staff key --email ...`.")
    passphrase = ask(passphrase_file, "INVIGIL_KEY_PASSPHRASE", f"Key passphrase of {person.email}")
    try:
        return unwrap_staff_key(row.wrapped, passphrase, person.id, row.kid)
    except (KeyFileError, WrongPassphrase) as exc:
        raise SystemExit(f"Cannot open the key of {person.email}: {exc}") from exc


def _holder_key(db: Session, args: argparse.Namespace) -> tuple[x25519.X25519PrivateKey, str, str]:
    """(private key, actor kind, actor id) from --key RECOVERY_FILE or --as EMAIL."""
    from invigil.kit import envelope
    from invigil.kit.keywrap import KeyFileError, WrongPassphrase, load_recovery_key

    if getattr(args, "key", None):
        passphrase = ask(args.passphrase_file, "INVIGIL_RECOVERY_PASSPHRASE", "Recovery key passphrase")
        try:
            key = load_recovery_key(Path(args.key), passphrase)
        except (KeyFileError, WrongPassphrase) as exc:
            raise SystemExit(f"Cannot open the recovery key: {exc}") from exc
        return key, "recovery-key", envelope.key_id(key.public_key())
    person = _person(db, args.institution, args.as_email)
    return _open_person_key(db, person, args.passphrase_file), "staff", person.id


# -- commands ---------------------------------------------------------------------------------------
def cmd_staff_key(args: argparse.Namespace) -> int:
    """Make a person's key pair (or rewrap it under a new passphrase)."""
    from invigil.accounts import keys as staff_keys
    from invigil.exams.keys import staff_key
    from invigil.kit import envelope
    from invigil.kit.clock import utcnow
    from invigil.kit.errors import DomainError
    from invigil.kit.keywrap import new_staff_key, rewrap_staff_key

    c = container()
    iterations = c.settings.kdf_iterations
    with c.uow() as db:
        person = _person(db, args.institution, args.email)
        existing = staff_key(db, person.id)
        if existing is not None:
            private_key = _open_person_key(db, person, args.old_passphrase_file)
        new = ask(args.passphrase_file, "INVIGIL_NEW_KEY_PASSPHRASE", "New key passphrase", confirm=True)
        try:
            if existing is None:
                private_key, wrapped = new_staff_key(new, person.id, iterations=iterations)
            else:
                wrapped = rewrap_staff_key(private_key, new, person.id, iterations=iterations)
            row = staff_keys.set_key(
                db,
                person,
                envelope.b64e(envelope.raw_public(private_key.public_key())),
                wrapped,
                min_iterations=iterations,
                now=utcnow(),
            )
        except (ValueError, DomainError) as exc:
            raise SystemExit(f"invigil staff key: {getattr(exc, 'message', exc)}") from exc
        print(f"{'Rewrapped' if existing else 'Created'} the key of {person.email} (key id {row.kid[:16]}…).")
    return 0


def cmd_grant(args: argparse.Namespace) -> int:
    """Seal copies of an exam's keys for everyone (or one person) who is assigned but lacks them."""
    from invigil.exams import keys, repository
    from invigil.kit.clock import utcnow
    from invigil.kit.errors import DomainError

    c = container()
    with c.uow() as db:
        exam = repository.get(db, args.exam)
        if exam is None:
            raise SystemExit(f"No exam with id {args.exam}.")
        holder, actor_kind, actor_id = _holder_key(db, args)
        try:
            opened = keys.open_exam_keys(db, exam.id, holder)
        except DomainError as exc:
            raise SystemExit(f"invigil keys grant: {exc.message}") from exc
        now = utcnow()
        wanted = _person(db, args.institution, args.to).id if args.to else None
        requests = [r for r in keys.pending_grants(db, exam, now) if wanted in (None, r.staff_id)]
        if not requests:
            print("Nobody is waiting for this exam's keys.")
            return 0
        from invigil.accounts.models import Staff

        for request in requests:
            grantee = db.get(Staff, request.staff_id)
            assert grantee is not None
            try:
                copies = keys.seal_copies(db, exam.id, opened, request.holder_public_key, request.missing)
                keys.grant(db, exam, grantee, copies, actor_kind=actor_kind, actor_id=actor_id, now=now)
            except DomainError as exc:
                raise SystemExit(f"invigil keys grant: {exc.message}") from exc
            print(f"Granted {grantee.email} {len(copies)} key(s) of exam {exam.id}.")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from invigil.exams import keys, repository
    from invigil.institutions.models import Institution
    from invigil.kit.clock import utcnow

    c = container()
    with c.uow() as db:
        exam = repository.get(db, args.exam)
        if exam is None:
            raise SystemExit(f"No exam with id {args.exam}.")
        person = _person(db, args.institution, args.staff)
        institution = db.get(Institution, exam.institution_id)
        generation = keys.revoke(db, exam, institution, person, actor_id="cli", now=utcnow())
        print(f"Revoked {person.email}; the exam's keys are now generation {generation}.")
    return 0


def cmd_rotate_recovery(args: argparse.Namespace) -> int:
    from invigil.exams import keys
    from invigil.institutions.models import Institution
    from invigil.kit.clock import utcnow
    from invigil.kit.keywrap import new_recovery_key, write_key_file

    c = container()
    with c.uow() as db:
        old, _, _ = _holder_key(db, args)
        institution = db.get(Institution, _institution_id(db, args.institution))
        assert institution is not None
        passphrase = ask(
            args.new_passphrase_file, "INVIGIL_NEW_RECOVERY_PASSPHRASE", "New recovery passphrase", True
        )
        try:
            document, public = new_recovery_key(
                passphrase, institution.slug, iterations=c.settings.kdf_iterations
            )
            write_key_file(Path(args.out), document)
        except (ValueError, FileExistsError) as exc:
            raise SystemExit(f"invigil keys rotate-recovery: {exc}") from exc
        count = keys.rotate_recovery(db, institution, old, public, utcnow())
    print(f"Re-sealed {count} exam key copies to the new recovery key in {args.out}.")
    print("Destroy every copy of the old recovery key file now: it must not outlive the data it opened.")
    return 0


def _institution_id(db: Session, slug: str | None) -> str:
    from invigil.institutions import service as institutions

    institution = institutions.by_slug(db, slug) if slug else institutions.only(db)
    if institution is None:
        raise SystemExit("Name the institution with --institution (several or none exist).")
    return institution.id


def cmd_export(args: argparse.Namespace) -> int:
    from invigil.evidence.export import export_exam
    from invigil.kit.errors import DomainError

    c = container()
    try:
        with c.uow() as db:
            holder, actor_kind, actor_id = _holder_key(db, args)
            result = export_exam(
                db, c.store, args.exam, holder, Path(args.out), actor_kind=actor_kind, actor_id=actor_id
            )
    except DomainError as exc:
        raise SystemExit(f"invigil evidence export: {exc.message}") from exc
    print(f"Opened {result.opened} items into {result.folder} (manifest.json lists them).")
    for failure in result.failed:
        print(f"  could not open {failure['item']} ({failure['candidate']}): {failure['error']}")
    return 0 if not result.failed else 1


def _holder_args(p: argparse.ArgumentParser) -> None:
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--key", help="the institution's recovery key file")
    who.add_argument("--as", dest="as_email", help="open with this person's key")
    p.add_argument("--passphrase-file", help="file holding the passphrase of that key")
    p.add_argument("--institution", help="institution slug (when there are several)")


def register(sub: Any) -> None:
    s = sub.add_parser("staff", help="staff accounts")
    ssub = s.add_subparsers(dest="staff_command", required=True)
    k = ssub.add_parser("key", help="create a person's key pair, or change its passphrase")
    k.add_argument("--email", required=True)
    k.add_argument("--institution")
    k.add_argument("--passphrase-file", help="file with the new passphrase")
    k.add_argument("--old-passphrase-file", help="file with the current passphrase (when changing it)")
    k.set_defaults(func=cmd_staff_key)

    s = sub.add_parser("keys", help="exam key custody: grant, revoke, rotate the recovery key")
    ksub = s.add_subparsers(dest="keys_command", required=True)
    g = ksub.add_parser("grant", help="seal an exam's keys for assigned people who lack them")
    g.add_argument("--exam", required=True)
    g.add_argument("--to", help="only this person (email)")
    _holder_args(g)
    g.set_defaults(func=cmd_grant)
    r = ksub.add_parser("revoke", help="remove a person from an exam and rotate its keys")
    r.add_argument("--exam", required=True)
    r.add_argument("--staff", required=True, help="their email")
    r.add_argument("--institution")
    r.set_defaults(func=cmd_revoke)
    rr = ksub.add_parser("rotate-recovery", help="re-seal every live exam key to a new recovery key")
    rr.add_argument("--key", required=True, help="the current recovery key file")
    rr.add_argument("--out", required=True, help="where to write the new recovery key file")
    rr.add_argument("--passphrase-file")
    rr.add_argument("--new-passphrase-file")
    rr.add_argument("--institution")
    rr.set_defaults(func=cmd_rotate_recovery, as_email=None)

    s = sub.add_parser("evidence", help="sealed evidence")
    esub = s.add_subparsers(dest="evidence_command", required=True)
    e = esub.add_parser("export", help="open an exam's evidence into a folder (recovery key or your key)")
    e.add_argument("--exam", required=True)
    e.add_argument("--out", required=True)
    _holder_args(e)
    e.set_defaults(func=cmd_export)
