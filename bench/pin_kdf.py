"""What one guess at an exam PIN costs: argon2id with the parameters sealed assignments use.

    .venv/bin/python bench/pin_kdf.py            # 10 guesses on one core, then all cores at once

The numbers go into docs/adr/0007-assignment-pin.md.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from invigil.kit import pinseal

SALT = b"\x00" * pinseal.SALT_LEN


def guess(n: int) -> float:
    start = time.perf_counter()
    pinseal.derive(f"GUESS{n:08d}"[:8], "exam", SALT, pinseal.PRODUCTION)
    return time.perf_counter() - start


def main() -> None:
    p = pinseal.PRODUCTION
    print(f"argon2id {p.memory_kib // 1024} MiB, {p.iterations} passes, parallelism {p.parallelism}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    one = statistics.median(guess(i) for i in range(10))
    print(f"one core: median {one * 1000:.0f} ms per guess ({1 / one:.1f}/s)")
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores) as pool:
        list(pool.map(guess, range(cores)))  # warm up
        start = time.perf_counter()
        list(pool.map(guess, range(cores * 10)))
        rate = cores * 10 / (time.perf_counter() - start)
    print(f"all {cores} cores: {rate:.1f} guesses/s")
    for label, space in (
        ("6 digits", 10**6),
        ("8 digits", 10**8),
        ("12 digits", 10**12),
        ("8 symbols", 32**8),
    ):
        core_hours = space * one / 3600
        print(f"  {label:>9}: {space:.1e} PINs, all tried in {core_hours:,.0f} core-hours")


if __name__ == "__main__":
    main()
