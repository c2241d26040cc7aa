"""Choose the blob store from the settings."""

from __future__ import annotations

from pathlib import Path

from invigil.config import Settings
from invigil.storage.base import BlobStore


def blob_store_from_settings(settings: Settings) -> BlobStore:
    """The one store of an installation without region pinning."""
    return _store(settings, "s3" if settings.blob_store == "s3" else str(settings.effective_blob_dir))


def regional_stores(settings: Settings) -> dict[str, BlobStore]:
    """INVIGIL_REGION_STORES: region -> a folder, or ``s3://bucket`` on the configured S3 endpoint."""
    return {region: _store(settings, spec) for region, spec in settings.region_stores.items()}


def _store(settings: Settings, spec: str) -> BlobStore:
    if spec == "s3" or spec.startswith("s3://"):
        from invigil.storage.s3 import S3BlobStore

        return S3BlobStore(
            endpoint_url=settings.s3_endpoint_url,
            bucket=spec.removeprefix("s3://") if spec.startswith("s3://") else settings.s3_bucket,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            region=settings.s3_region,
        )
    from invigil.storage.filesystem import FilesystemBlobStore

    return FilesystemBlobStore(Path(spec))
