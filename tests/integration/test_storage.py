"""BlobStore conformance: every implementation (filesystem, S3 on a real SeaweedFS) keeps the same
contract, plus the filesystem store's own guarantees and an end-to-end exam on the S3 store."""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from invigil.agent.runtime import AgentRuntime, policy_sources
from invigil.agent.sources import Source
from invigil.agent.sources.sample import SampleProcesses, SampleScreen, SampleWebcam
from invigil.config import Settings
from invigil.container import Container
from invigil.evidence import repository
from invigil.evidence.export import export_exam
from invigil.protocol.policy import Policy
from invigil.sim.classroom import reads_and_accepts
from invigil.storage import BlobNotFound, BlobStore, check_key
from invigil.storage.base import InvalidKey
from invigil.storage.filesystem import FilesystemBlobStore
from tests.factories import ThreadServer, install, make_exam
from tests.seaweed import SeaweedS3, delete_bucket, fresh_bucket, s3_client

MiB = 1024 * 1024


def _blob(size: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(size)


# -- the contract, for every store ---------------------------------------------------------------


def test_is_a_blob_store(blob_store: BlobStore) -> None:
    assert isinstance(blob_store, BlobStore)
    assert blob_store.name in ("filesystem", "s3")
    blob_store.check()


@pytest.mark.parametrize(
    "size",
    [0, 1, 255, 64 * 1024, 5 * MiB + 123],  # 5 MiB spans chunks: SeaweedFS splits files at 4 MiB
    ids=["empty", "1B", "255B", "64KiB", "5MiB"],
)
def test_put_get_roundtrip(blob_store: BlobStore, size: int) -> None:
    data = _blob(size, seed=size)
    blob_store.put("evidence/exam/session/item", data)
    assert blob_store.get("evidence/exam/session/item") == data
    assert blob_store.size("evidence/exam/session/item") == size


def test_overwrite_replaces_whole_blob(blob_store: BlobStore) -> None:
    blob_store.put("k/one", b"a much longer first version")
    blob_store.put("k/one", b"short")
    assert blob_store.get("k/one") == b"short"  # no tail of the old version left
    assert blob_store.size("k/one") == 5
    assert list(blob_store.keys("k/")) == ["k/one"]


def test_get_range(blob_store: BlobStore) -> None:
    data = bytes(range(256)) * 4  # 1024 bytes, every offset recognizable
    blob_store.put("r/blob", data)
    assert blob_store.get_range("r/blob", 0, 10) == data[:10]
    assert blob_store.get_range("r/blob", 100, 50) == data[100:150]
    assert blob_store.get_range("r/blob", 1000, 24) == data[1000:]  # exactly to the end
    assert blob_store.get_range("r/blob", 1000, 100) == data[1000:]  # runs past the end: truncated
    assert blob_store.get_range("r/blob", 0, 5000) == data
    assert blob_store.get_range("r/blob", 1024, 10) == b""  # starts at the end
    assert blob_store.get_range("r/blob", 5000, 10) == b""  # starts past the end
    assert blob_store.get_range("r/blob", 10, 0) == b""  # zero length


def test_get_range_on_empty_and_large_blobs(blob_store: BlobStore) -> None:
    blob_store.put("r/empty", b"")
    assert blob_store.get_range("r/empty", 0, 10) == b""
    big = _blob(5 * MiB, seed=7)
    blob_store.put("r/big", big)
    seam = 4 * MiB  # a SeaweedFS chunk boundary
    assert blob_store.get_range("r/big", seam - 10, 20) == big[seam - 10 : seam + 10]
    assert blob_store.get_range("r/big", 5 * MiB - 3, 10) == big[-3:]


def test_missing_blob(blob_store: BlobStore) -> None:
    blob_store.put("m/present", b"x")
    for call in (
        lambda: blob_store.get("m/absent"),
        lambda: blob_store.get_range("m/absent", 0, 10),
        lambda: blob_store.get_range("m/absent", 0, 0),
    ):
        with pytest.raises(BlobNotFound):
            call()
    assert issubclass(BlobNotFound, KeyError)
    assert blob_store.size("m/absent") is None
    assert blob_store.size("m/present") == 1


def test_delete_is_idempotent(blob_store: BlobStore) -> None:
    blob_store.put("d/a", b"1")
    blob_store.put("d/b", b"2")
    blob_store.delete("d/a")
    assert blob_store.size("d/a") is None
    with pytest.raises(BlobNotFound):
        blob_store.get("d/a")
    blob_store.delete("d/a")  # already gone: fine
    blob_store.delete("d/never-existed")
    assert list(blob_store.keys("d/")) == ["d/b"]


def test_keys_lists_exactly_the_prefix(blob_store: BlobStore) -> None:
    inside = ["p/a", "p/b", "p/sub/c", "p/sub/deeper/d"]
    outside = ["p-x/a", "pp/a", "q/p/a", "other"]
    for key in inside + outside:
        blob_store.put(key, key.encode())
    assert sorted(blob_store.keys("p/")) == inside
    assert sorted(blob_store.keys("p/sub/")) == ["p/sub/c", "p/sub/deeper/d"]
    assert list(blob_store.keys("nothing/")) == []
    assert list(blob_store.keys("p/a/")) == []  # a blob is not a folder
    blob_store.delete("p/sub/c")
    assert sorted(blob_store.keys("p/")) == ["p/a", "p/b", "p/sub/deeper/d"]


def test_keys_of_one_level_come_sorted(blob_store: BlobStore) -> None:
    """What callers may rely on: keys in one folder come back sorted (chunked uploads store parts as
    zero-padded offsets). Across nested folders neither store promises byte order: both list
    depth-first ('p/a/x' before 'p/a-b'), AWS lists by bytes; callers sort when it matters."""
    keys = [f"partial/s/i/{offset:014d}" for offset in (0, 1048576, 2097152, 10485760, 99)]
    for key in reversed(keys):
        blob_store.put(key, b"part")
    assert list(blob_store.keys("partial/s/i/")) == sorted(keys)


def test_keys_is_complete_past_one_page(blob_store: BlobStore) -> None:
    """S3 lists 1000 keys a page; 1100 keys in three folders must all come back, once each."""
    keys = [f"many/d{i % 3}/k{i:05d}" for i in range(1100)]
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: blob_store.put(k, b"x"), keys))
    blob_store.put("many-not/k", b"x")
    listed = list(blob_store.keys("many/"))
    assert len(listed) == len(set(listed)) == 1100
    assert sorted(listed) == sorted(keys)


LONGEST = "k/" + "/".join(["x" * 100] * 5) + "/" + "y" * 5  # 512 characters, segments < 255
BAD_KEYS = [
    "",
    "../x",
    "a/../b",
    "a/..",
    "..",
    "/abs",
    "/etc/passwd",
    "a\\b",
    "..\\x",
    "a//b",
    "a/",
    "./a",
    ".hidden",
    "a b",
    "a\x00b",
    "é",
    "x" * 513,
    LONGEST + "z",
]


def test_longest_valid_key(blob_store: BlobStore) -> None:
    assert len(LONGEST) == 512
    blob_store.put(LONGEST, b"ok")
    assert blob_store.get(LONGEST) == b"ok"


@pytest.mark.parametrize("key", BAD_KEYS, ids=[repr(k)[:24] for k in BAD_KEYS])
def test_invalid_keys_are_refused(blob_store: BlobStore, key: str, tmp_path: Path) -> None:
    calls = {
        "put": lambda: blob_store.put(key, b"evil"),
        "get": lambda: blob_store.get(key),
        "get_range": lambda: blob_store.get_range(key, 0, 1),
        "get_range(0)": lambda: blob_store.get_range(key, 0, 0),
        "size": lambda: blob_store.size(key),
        "delete": lambda: blob_store.delete(key),
    }
    accepted = []
    for name, call in calls.items():
        try:
            call()
        except InvalidKey:
            continue
        except Exception as exc:  # refused, but not as an invalid key (or only after trying)
            accepted.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            accepted.append(name)
    assert accepted == []
    assert list(blob_store.keys("")) == []  # nothing was written anywhere in the store
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # nor next to it


@pytest.mark.parametrize("prefix", ["../", "/etc/", "a/../", "a\\b/"])
def test_keys_refuses_prefixes_outside_the_store(blob_store: BlobStore, prefix: str) -> None:
    with pytest.raises(InvalidKey):
        list(blob_store.keys(prefix))


@pytest.mark.parametrize("key", ["a/./b", "a/.tmp-x", ".hidden", "a/" + "x" * 256])
def test_dot_segments_and_overlong_segments_are_refused(key: str) -> None:
    """'a/./b' would alias 'a/b' on disk (SeaweedFS refuses it); '.tmp-' names are the
    filesystem store's temporary files; a segment over 255 characters fits no filesystem."""
    with pytest.raises(InvalidKey):
        check_key(key)


def test_s3_refuses_invalid_keys_without_a_request() -> None:
    """Validation happens before any request: this store points at a closed port, so a request
    would fail with a connection error, not InvalidKey."""
    pytest.importorskip("boto3")
    from invigil.storage.s3 import S3BlobStore

    store = S3BlobStore("http://127.0.0.1:9", "no-such-bucket", "k", "s", create_bucket=False)
    for key in BAD_KEYS:
        for call in (
            lambda k=key: store.put(k, b""),
            lambda k=key: store.get(k),
            lambda k=key: store.get_range(k, 0, 1),
            lambda k=key: store.get_range(k, 0, 0),
            lambda k=key: store.size(k),
            lambda k=key: store.delete(k),
        ):
            with pytest.raises(InvalidKey):
                call()
    with pytest.raises(InvalidKey):
        list(store.keys("../"))


# -- S3 specifics ----------------------------------------------------------------------------------


@pytest.mark.s3
def test_s3_wrong_credentials_are_reported_not_hidden(seaweed: SeaweedS3) -> None:
    from botocore.exceptions import ClientError

    from invigil.storage.s3 import S3BlobStore

    with pytest.raises(ClientError, match="HeadBucket"):  # not a confusing CreateBucket failure
        S3BlobStore(seaweed.endpoint_url, fresh_bucket(), "wrong", "wrong-secret")
    store = S3BlobStore(seaweed.endpoint_url, fresh_bucket(), "wrong", "wrong-secret", create_bucket=False)
    with pytest.raises(RuntimeError, match="is not usable"):
        store.check()


@pytest.mark.s3
def test_s3_missing_bucket_is_reported(seaweed: SeaweedS3) -> None:
    from invigil.storage.s3 import S3BlobStore

    bucket = fresh_bucket()
    store = S3BlobStore(
        seaweed.endpoint_url, bucket, seaweed.access_key, seaweed.secret_key, create_bucket=False
    )
    with pytest.raises(RuntimeError, match=f"S3 bucket '{bucket}' at {seaweed.endpoint_url}"):
        store.check()


@pytest.mark.s3
def test_s3_existing_bucket_is_reused(seaweed: SeaweedS3) -> None:
    from invigil.storage.s3 import S3BlobStore

    bucket = fresh_bucket()
    first = S3BlobStore(seaweed.endpoint_url, bucket, seaweed.access_key, seaweed.secret_key)
    first.put("a/b", b"kept")
    second = S3BlobStore(seaweed.endpoint_url, bucket, seaweed.access_key, seaweed.secret_key)
    assert second.get("a/b") == b"kept"
    second.check()
    assert list(second.keys("")) == ["a/b"]  # check() cleans up its write probe


# -- filesystem specifics --------------------------------------------------------------------------


def test_filesystem_put_leaves_no_temp_files(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    for i in range(20):
        store.put(f"e/x/{i % 4}", _blob(1000 + i, seed=i))  # new files and overwrites
    leftovers = [p.name for p in (tmp_path / "blobs").rglob("*") if p.name.startswith(".tmp-")]
    assert leftovers == []
    assert sorted(store.keys("e/")) == [f"e/x/{i}" for i in range(4)]


def test_filesystem_keys_never_lists_temp_files(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    store.put("e/x/done", b"complete")
    (tmp_path / "blobs" / "e" / "x" / ".tmp-crashed123").write_bytes(b"half")  # a put that died
    assert list(store.keys("e/")) == ["e/x/done"]
    assert list(store.keys("")) == ["e/x/done"]


def test_filesystem_failed_put_keeps_old_blob_and_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    store.put("e/x/item", b"old version")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        store.put("e/x/item", b"new version that never lands")
    monkeypatch.undo()
    assert store.get("e/x/item") == b"old version"  # readers see all of one version, never half
    assert [p.name for p in (tmp_path / "blobs" / "e" / "x").iterdir()] == ["item"]


def test_filesystem_containment_holds_even_through_symlinks(tmp_path: Path) -> None:
    """A key that passes validation but resolves outside the root (a planted symlink) is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    store = FilesystemBlobStore(tmp_path / "blobs")
    (tmp_path / "blobs" / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey, match="escapes"):
        store.put("evil/x", b"data")
    with pytest.raises(InvalidKey, match="escapes"):
        store.get("evil/x")
    assert list(outside.iterdir()) == []


# -- end to end: a real exam with INVIGIL_BLOB_STORE=s3 ------------------------------------------


@pytest.mark.s3
@pytest.mark.slow
def test_exam_evidence_goes_to_s3_sealed_and_exports(seaweed: SeaweedS3, tmp_path: Path) -> None:
    bucket = fresh_bucket("invigil-e2e")
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'invigil.db'}",
        blob_store="s3",
        s3_endpoint_url=seaweed.endpoint_url,
        s3_bucket=bucket,
        s3_access_key=SecretStr(seaweed.access_key),
        s3_secret_key=SecretStr(seaweed.secret_key),
        kdf_iterations=1000,
        heartbeat_interval_seconds=1,
        offline_after_seconds=3,
        sweep_interval_seconds=0.5,
    )
    c = Container.from_settings(settings)
    try:
        assert c.store.name == "s3"
        inst = install(c, tmp_path)
        exam = make_exam(inst, n=1)
        answers = b"My answers.\n"
        big_file = _blob(int(2.5 * MiB), seed=42)  # > 1 MiB: uploaded in chunks via partial/ keys
        srv = ThreadServer(c).start()
        try:

            def sources(policy: Policy) -> list[tuple[Source, Callable[[], float]]]:
                return policy_sources(
                    policy,
                    {
                        "screenshot": SampleScreen,
                        "webcam_frame": SampleWebcam,
                        "process_snapshot": SampleProcesses,
                    },
                )

            runtime = AgentRuntime(
                srv.url,
                tmp_path / "spool",
                exam.codes[0],
                sources,
                lambda: [answers, big_file],
                handin_after=4,
                read_notice=reads_and_accepts,
            )
            status = asyncio.run(asyncio.wait_for(runtime.run(), 60))
        finally:
            srv.stop()
        assert status.phase == "closed", status
        assert status.error == ""

        with c.uow() as db:
            stored = {item.blob_key: item.kind for item in repository.stored_for_exam(db, exam.exam_id)}
        kinds = set(stored.values())
        assert {"handin_file", "screenshot", "webcam_frame", "process_snapshot"} <= kinds, kinds

        # What is really in the bucket, seen by a client of our own rather than the store under test.
        client = s3_client(seaweed.endpoint_url, seaweed.access_key, seaweed.secret_key)
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        in_bucket = [o["Key"] for page in pages for o in page.get("Contents", [])]
        evidence = [k for k in in_bucket if k.startswith("evidence/")]
        assert sorted(evidence) == sorted(stored)
        assert [k for k in in_bucket if k.startswith("partial/")] == []  # chunks assembled, parts gone
        for key in evidence:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
            assert body.startswith(b"INVGENV1"), key
            assert answers not in body
            assert big_file[:64] not in body
        assert not settings.effective_blob_dir.exists()  # nothing went to the local disk instead

        with c.uow() as db:
            result = export_exam(db, c.store, exam.exam_id, inst.recovery_key(), tmp_path / "export")
        assert result.failed == []
        assert result.opened == len(stored)
        exported = {p.read_bytes() for p in (tmp_path / "export").rglob("*handin_file*")}
        assert exported == {answers, big_file}
    finally:
        c.close()
        delete_bucket(seaweed, bucket)
