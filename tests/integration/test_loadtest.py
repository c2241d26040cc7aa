"""`invigil loadtest` end to end, small: a real server subprocess on SQLite, every endpoint, nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from invigil.sim.loadtest import ENDPOINTS, LoadOptions, percentile, run_loadtest


@pytest.mark.slow
@pytest.mark.parametrize("connections", [8, 0], ids=["shared-pool", "one-per-agent"])
def test_short_load_run_stores_every_item_exactly_once(tmp_path: Path, connections: int) -> None:
    out = tmp_path / "report.json"
    report = run_loadtest(
        LoadOptions(
            candidates=20,
            connections=connections,
            minutes=0.25,
            ramp_seconds=2,
            heartbeat_seconds=2,
            events_seconds=2,
            screenshot_seconds=(3, 5),
            screenshot_bytes=20 * 1024,
            database_url="",  # SQLite, whatever INVIGIL_DATABASE_URL says
            json_out=out,
            seed=1,
            quiet=True,
        )
    )
    assert report["lost"] == 0
    assert report["duplicates"] == 0
    assert report["activated"] == 20
    for endpoint in ENDPOINTS:
        assert report["endpoints"][endpoint]["ok"] > 0, endpoint
    assert report["endpoints"]["activate"]["requests"] == 20
    items = report["items"]
    assert items["attempted"] == items["acknowledged"] == items["stored_on_server"] > 0
    assert json.loads(out.read_text())["lost"] == 0


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([], 99) == 0
    assert percentile([7.0], 1) == 7
