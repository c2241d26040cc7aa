"""S3-compatible blob store (SeaweedFS, MinIO, Ceph, AWS S3) through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from invigil.storage.base import BlobNotFound, check_key

# A missing object: GET answers NoSuchKey; HEAD has no body, so botocore reports the bare status.
_MISSING_KEY = ("NoSuchKey", "404", "NotFound")
_MISSING_BUCKET = ("NoSuchBucket", "404", "NotFound")
_PROBE_KEY = "_invigil/write-probe"  # check() only; outside every prefix the application lists


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _status(exc: Exception) -> int:
    return int(getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


class S3BlobStore:
    name = "s3"

    def __init__(
        self,
        endpoint_url: str,
        bucket: str,
        access_key: str = "",
        secret_key: str = "",
        region: str = "us-east-1",
        create_bucket: bool = True,
    ) -> None:
        import boto3  # the s3 extra; imported here so filesystem installs need not have it
        from botocore.config import Config

        self.bucket, self.endpoint_url, self.region = bucket, endpoint_url, region
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key or "invigil",
            aws_secret_access_key=secret_key or "invigil",
            region_name=region,
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 5, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                max_pool_connections=32,
            ),
        )
        if create_bucket:
            self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            # Only a missing bucket is ours to create; 403 (wrong keys) and the like must surface
            # as themselves, not as a confusing CreateBucket failure.
            if _code(exc) not in _MISSING_BUCKET:
                raise
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":  # AWS refuses a CreateBucket without it outside us-east-1
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**kwargs)
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":  # another process won the race: fine
                raise

    def _missing(self, exc: Exception) -> bool:
        return _code(exc) in _MISSING_KEY

    def put(self, key: str, data: bytes) -> None:
        self._client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data)

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            obj = self._client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._missing(exc):
                raise BlobNotFound(key) from exc
            raise
        return bytes(obj["Body"].read())

    def get_range(self, key: str, start: int, length: int) -> bytes:
        from botocore.exceptions import ClientError

        check_key(key)
        if start < 0:
            raise ValueError(f"range start must not be negative, got {start}")
        if length <= 0:
            # Nothing to read, but a missing blob is still missing (as for the filesystem store).
            if self.size(key) is None:
                raise BlobNotFound(key)
            return b""
        try:
            obj = self._client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{start + length - 1}"
            )
        except ClientError as exc:
            if self._missing(exc):
                raise BlobNotFound(key) from exc
            if _code(exc) == "InvalidRange" or _status(exc) == 416:  # start at or past the end
                return b""
            raise
        return bytes(obj["Body"].read())

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self._client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if self._missing(exc):
                return None
            raise
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def keys(self, prefix: str) -> Iterator[str]:
        if prefix.strip("/"):
            check_key(prefix.rstrip("/"))  # as the filesystem store: no listing outside the store
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def check(self) -> None:
        """The bucket exists and these credentials may write to it (as the filesystem store checks
        that its directory is writable)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.head_bucket(Bucket=self.bucket)
            self._client.put_object(Bucket=self.bucket, Key=_PROBE_KEY, Body=b"ok")
            self._client.delete_object(Bucket=self.bucket, Key=_PROBE_KEY)
        except (BotoCoreError, ClientError) as exc:
            raise RuntimeError(
                f"S3 bucket {self.bucket!r} at {self.endpoint_url} is not usable: {exc}"
            ) from exc
