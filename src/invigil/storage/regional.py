"""Region pinning: every blob goes to the store of the region its exam is pinned to.

Keys name their exam (``evidence/<exam>/…``, ``assignments/<exam>/…``) or their session
(``partial/<session>/…``, upload parts); ``region_of`` turns that id into the exam's region, and the
blob lands in that region's store and nowhere else. A region without a configured store is an error,
never a silent fallback to another region. Exams cannot change region, so the lookup is cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from invigil.storage.base import BlobStore


class RegionNotConfigured(RuntimeError):
    """An exam's region has no blob store here: configure INVIGIL_REGION_STORES."""


class RegionalBlobStore:
    name = "regional"

    def __init__(self, stores: dict[str, BlobStore], region_of: Callable[[str, str], str]) -> None:
        """``region_of(kind, id)``: kind is "exam" or "session"; answers the exam's region."""
        self.stores = stores
        self._region_of = region_of
        self._cache: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def region(self, key: str) -> str:
        top, _, rest = key.partition("/")
        owner = rest.split("/", 1)[0]
        kind = "session" if top == "partial" else "exam"
        with self._lock:
            region = self._cache.get((kind, owner))
        if region is None:
            region = self._region_of(kind, owner)
            with self._lock:
                self._cache[(kind, owner)] = region
        return region

    def _store(self, key: str) -> BlobStore:
        region = self.region(key)
        store = self.stores.get(region)
        if store is None:
            raise RegionNotConfigured(
                f"no blob store for region {region!r}: add it to INVIGIL_REGION_STORES "
                f"(configured: {', '.join(sorted(self.stores)) or 'none'})"
            )
        return store

    def put(self, key: str, data: bytes) -> None:
        self._store(key).put(key, data)

    def get(self, key: str) -> bytes:
        return self._store(key).get(key)

    def get_range(self, key: str, start: int, length: int) -> bytes:
        return self._store(key).get_range(key, start, length)

    def size(self, key: str) -> int | None:
        return self._store(key).size(key)

    def delete(self, key: str) -> None:
        self._store(key).delete(key)

    def keys(self, prefix: str) -> Iterator[str]:
        return self._store(prefix).keys(prefix)

    def check(self) -> None:
        for store in self.stores.values():
            store.check()
