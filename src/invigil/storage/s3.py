"""S3-compatible blob store (SeaweedFS, MinIO, Ceph, AWS S3) through boto3."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from invigil.storage.base import BlobNotFound, check_key


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

        self.bucket = bucket
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
        except ClientError:
            self._client.create_bucket(Bucket=self.bucket)

    def _missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in ("NoSuchKey", "404", "NotFound")

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

        if length <= 0:
            return b""
        try:
            obj = self._client.get_object(
                Bucket=self.bucket, Key=check_key(key), Range=f"bytes={start}-{start + length - 1}"
            )
        except ClientError as exc:
            if self._missing(exc):
                raise BlobNotFound(key) from exc
            if "InvalidRange" in str(exc):
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
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"]

    def check(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)
