"""One typed, frozen Settings object for the whole installation (env prefix ``INVIGIL_``).

Every piece of state lives under ``data_dir`` unless a setting points elsewhere: the SQLite database,
the filesystem blob store, the server's receipt-signing key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INVIGIL_", frozen=True, extra="ignore")

    data_dir: Path = Field(default=Path("./invigil-data"), description="Root of all local state.")
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite at DATA_DIR/invigil.db."
    )
    blob_store: Literal["filesystem", "s3"] = "filesystem"
    blob_dir: Path | None = Field(default=None, description="Filesystem store root; DATA_DIR/blobs.")
    s3_endpoint_url: str = ""
    s3_bucket: str = "invigil-evidence"
    s3_region: str = "us-east-1"
    s3_access_key: SecretStr = SecretStr("")
    s3_secret_key: SecretStr = SecretStr("")
    # Region pinning: region label -> a folder, or "s3://bucket" on the S3 endpoint above. When set,
    # each exam's evidence goes only to its region's store (storage/regional.py).
    region_stores: dict[str, str] = Field(default_factory=dict)
    # Where this installation's database is; institutions pinned elsewhere are refused. Empty: unchecked.
    database_region: str = ""

    host: str = "127.0.0.1"
    port: int = 8000
    # The reverse proxies whose X-Forwarded-For is believed (comma-separated addresses, or "*").
    # The client's address is only ever kept as its network (kit/minimal.py).
    forwarded_allow_ips: str = "127.0.0.1"
    public_url: str = Field(default="", description="Base URL printed on receipts; default http://HOST:PORT.")

    # Agent protocol limits.
    max_request_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    max_event_batch: int = Field(default=500, ge=1)
    heartbeat_interval_seconds: int = Field(default=10, ge=1)
    offline_after_seconds: int = Field(default=30, ge=2, description="No heartbeat this long: offline.")
    # An exam hall shares one network: allow for typos; 80-bit codes make guessing hopeless anyway.
    activation_max_failures: int = Field(
        default=60, ge=1, description="Wrong codes per client network per window."
    )
    activation_window_seconds: int = Field(default=600, ge=1)
    max_pending_writes: int = Field(
        default=1000,
        ge=1,
        description="Activations, heartbeats, event batches and upload rows waiting to commit; "
        "beyond: 503, retry.",
    )
    group_commit_linger_ms: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="How long a group commit waits for more heartbeats and event batches to share it.",
    )
    max_pending_uploads: int = Field(
        default=64, ge=1, description="Evidence uploads being stored at once per process; beyond: 503, retry."
    )
    # Sync endpoints and uploads run on this many threads. With the 2 group-commit threads and the
    # sweeper it stays within the PostgreSQL pool (20), so no overflow connections open and close.
    thread_pool_size: int = Field(default=14, ge=1)

    # Staff access.
    staff_token_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    kdf_iterations: int = Field(default=600_000, ge=1, description="PBKDF2-HMAC-SHA512 for key wrapping.")

    # The web UI's login (ADR 0012).
    web_session_idle_seconds: int = Field(default=15 * 60, ge=60, description="Logged out after this idle.")
    web_session_max_seconds: int = Field(default=10 * 3600, ge=300, description="Absolute session lifetime.")
    login_max_failures: int = Field(default=5, ge=1, description="Wrong logins per account, then lockout.")
    login_client_max_failures: int = Field(default=50, ge=1, description="Wrong logins per client network.")
    login_window_seconds: int = Field(default=15 * 60, ge=1, description="Failures count within this window.")
    login_lockout_seconds: int = Field(default=5 * 60, ge=1, description="How long a lockout lasts.")

    # In-process jobs (embedded default). At scale run `invigil worker` instead.
    run_jobs_in_process: bool = True
    sweep_interval_seconds: float = Field(default=5.0, gt=0)
    # How often the sweeper signs the access log's hash chain (audit/chain.py), when it has grown.
    audit_checkpoint_seconds: float = Field(default=3600.0, gt=0)

    # Analysis (ADR 0009): jobs in a thread of the server, or on a Redis queue for `invigil worker`.
    analysis_queue: Literal["in_process", "redis", "off"] = "in_process"
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_namespace: str = Field(default="invigil", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    analysis_staff_id: str = Field(default="", description="The worker's reviewer account (ADR 0009).")
    analysis_passphrase_file: Path | None = Field(default=None, description="Its key passphrase, one line.")

    @model_validator(mode="after")
    def _check(self) -> Settings:
        uses_s3 = self.blob_store == "s3" or any(v.startswith("s3://") for v in self.region_stores.values())
        if uses_s3 and not self.s3_endpoint_url:
            raise ValueError("S3 blob stores need INVIGIL_S3_ENDPOINT_URL")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'invigil.db').resolve()}"

    @property
    def effective_blob_dir(self) -> Path:
        return (self.blob_dir or self.data_dir / "blobs").resolve()

    @property
    def effective_public_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Cookies are sent over HTTPS only when the public URL is https."""
        return self.effective_public_url.startswith("https://")

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"
