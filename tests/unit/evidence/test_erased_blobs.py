"""After an erasure has committed, its ciphertext goes at once if the store allows, and a store that
fails (disk full, S3 down) is logged, not raised: the erasure stands and the retention run retries."""

from __future__ import annotations

import errno
import logging
from types import SimpleNamespace

from invigil.evidence.shredding import delete_erased_blobs
from invigil.storage.filesystem import FilesystemBlobStore


class FullDisk(FilesystemBlobStore):
    def delete(self, key: str) -> None:
        raise OSError(errno.EIO, "input/output error")


def item(n: int) -> SimpleNamespace:
    return SimpleNamespace(id=f"item{n}", session_id="s1", blob_key=f"evidence/e1/s1/item{n}")


def test_blobs_of_erased_items_are_deleted(tmp_path):
    store = FilesystemBlobStore(tmp_path)
    items = [item(1), item(2)]
    for i in items:
        store.put(i.blob_key, b"ciphertext")
    store.put("partial/s1/item1/0", b"half an upload")
    delete_erased_blobs(store, items)  # type: ignore[arg-type]
    assert [store.size(i.blob_key) for i in items] == [None, None]
    assert list(store.keys("partial/s1/")) == []


def test_a_failing_store_is_logged_and_the_rest_still_tried(tmp_path, caplog):
    store = FullDisk(tmp_path)
    store.put(item(1).blob_key, b"ciphertext")
    with caplog.at_level(logging.ERROR, logger="invigil.evidence"):
        delete_erased_blobs(store, [item(1), item(2)])  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == [
        "erased item item1: its blob could not be deleted yet",
        "erased item item2: its blob could not be deleted yet",
    ]
    assert store.size(item(1).blob_key) == len(b"ciphertext")  # left for the retention run
