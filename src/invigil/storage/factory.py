"""Choose the blob store from the settings."""

from __future__ import annotations

from invigil.config import Settings
from invigil.storage.base import BlobStore


def blob_store_from_settings(settings: Settings) -> BlobStore:
    if settings.blob_store == "s3":
        from invigil.storage.s3 import S3BlobStore

        return S3BlobStore(
            endpoint_url=settings.s3_endpoint_url,
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            region=settings.s3_region,
        )
    from invigil.storage.filesystem import FilesystemBlobStore

    return FilesystemBlobStore(settings.effective_blob_dir)
