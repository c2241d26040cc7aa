"""Installation set-up shared by `invigil init` and `invigil demo`: schema, institution, recovery key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from invigil.container import Container
from invigil.institutions import service as institutions
from invigil.institutions.models import Institution
from invigil.kit import envelope, keywrap
from invigil.migrate import upgrade


@dataclass(frozen=True)
class Initialized:
    institution_id: str
    recovery_kid: str
    recovery_file: Path


def initialize(
    c: Container,
    *,
    slug: str,
    name: str,
    region: str,
    passphrase: str,
    recovery_file: Path,
    dpo_contact: str = "",
) -> Initialized:
    """Migrate the database, create the institution and its offline recovery key file."""
    if recovery_file.exists():
        raise FileExistsError(f"{recovery_file} already exists; refusing to overwrite a recovery key")
    institutions.check_region(c.settings, region)
    upgrade(c.settings.effective_database_url)
    c.store.check()
    document, public_key = keywrap.new_recovery_key(passphrase, slug, iterations=c.settings.kdf_iterations)
    with c.uow() as db:
        institution: Institution = institutions.create(
            db,
            slug=slug,
            name=name,
            region=region,
            recovery_kid=document["kid"],
            recovery_public_key=envelope.b64e(envelope.raw_public(public_key)),
            dpo_contact=dpo_contact,
        )
        institution_id = institution.id
    keywrap.write_key_file(recovery_file, document)
    _ = c.signer  # create the receipt-signing key now, not on the first hand-in
    return Initialized(institution_id, document["kid"], recovery_file)
