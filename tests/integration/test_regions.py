"""Region pinning: two institutions on one installation, one pinned to eu-north and one to
eu-central; every blob of each exam (whole items and upload parts) lands in its own region's store
and never in the other. Institutions and exams cannot be pinned where nothing is configured.
SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

import httpx
import pytest

from invigil.config import Settings
from invigil.exams import service as exams
from invigil.institutions.models import Institution
from invigil.kit.errors import Invalid
from invigil.setup import initialize
from tests.factories import Installation, make_exam
from tests.integration.agentkit import activate


@pytest.fixture
def settings(settings, tmp_path):
    stores = {"eu-north": str(tmp_path / "store-north"), "eu-central": str(tmp_path / "store-central")}
    return settings.model_copy(update={"region_stores": stores})


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.url, timeout=20) as client:
        yield client


def files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_each_exams_blobs_stay_in_its_region(http, installation, tmp_path):
    c = installation.container
    central = initialize(
        c,
        slug="central",
        name="Central U",
        region="eu-central",
        passphrase="pp " * 6,
        recovery_file=tmp_path / "rc.json",
    )
    north_exam = make_exam(installation, n=1)
    central_exam = make_exam(
        Installation(c, central.institution_id, central.recovery_file), n=1, assign=False
    )
    for exam in (north_exam, central_exam):
        agent = activate(http, exam.codes[0])
        agent.upload("screenshot", f"\x89PNG {exam.exam_id}".encode())
        # Half an upload: its first part waits in the store of the same region.
        item_id, sealed = agent.seal("screenshot", b"\x89PNG" + bytes(300_000))
        n = len(sealed)
        sha = hashlib.sha256(sealed).hexdigest()
        r = agent.put(
            item_id, "screenshot", sealed[:100_000], size=n, sha=sha, content_range=f"bytes 0-99999/{n}"
        )
        assert r.status_code in (200, 202), r.text

    north, south = files(tmp_path / "store-north"), files(tmp_path / "store-central")
    assert north
    assert south
    for mine, theirs, listing in ((north_exam, central_exam, north), (central_exam, north_exam, south)):
        evidence = [f for f in listing if f.startswith("evidence/")]
        parts = [f for f in listing if f.startswith("partial/")]
        assert evidence
        assert parts
        assert all(f.startswith(f"evidence/{mine.exam_id}/") for f in evidence), evidence
        assert all(f.startswith(f"partial/{mine.session_ids[0]}/") for f in parts), parts
        assert not any(theirs.exam_id in f or theirs.session_ids[0] in f for f in listing)
    assert not (c.settings.data_dir / "blobs").exists()  # no default store in use at all


def test_exams_stay_in_their_institutions_region(installation):
    c = installation.container
    with c.uow() as db:
        institution = db.get(Institution, installation.institution_id)
        from datetime import timedelta

        from invigil.kit.clock import utcnow

        start = utcnow() + timedelta(days=1)
        with pytest.raises(Invalid, match="stored in its region, 'eu-north'"):
            exams.create_exam(
                db,
                institution,
                title="T",
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                timezone="Europe/Copenhagen",
                region="eu-central",
            )


def test_institutions_are_pinned_only_where_stores_and_database_are(container, tmp_path):
    with pytest.raises(Invalid, match="No blob store for region 'mars'"):
        initialize(
            container,
            slug="mars",
            name="Mars U",
            region="mars",
            passphrase="pp " * 6,
            recovery_file=tmp_path / "m.json",
        )
    pinned = Settings(**{**container.settings.model_dump(), "database_region": "eu-north"})
    from invigil.institutions import service as institutions

    with pytest.raises(Invalid, match="database is in 'eu-north'"):
        institutions.check_region(pinned, "eu-central")
    institutions.check_region(pinned, "eu-north")
