"""Blob storage behind one interface: local filesystem by default, any S3-compatible store by setting."""

from invigil.storage.base import BlobNotFound, BlobStore, check_key

__all__ = ["BlobNotFound", "BlobStore", "check_key"]
