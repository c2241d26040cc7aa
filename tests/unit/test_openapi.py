"""docs/openapi.json is the published protocol; it must match what the server serves."""

from __future__ import annotations

import json
from pathlib import Path

from invigil.app import create_app
from invigil.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_published_openapi_is_current(tmp_path):
    served = create_app(Settings(data_dir=tmp_path)).openapi()
    assert json.loads(DOC.read_text()) == json.loads(json.dumps(served)), (
        "docs/openapi.json is stale: regenerate it with `make openapi`"
    )
    agent_paths = {p for p in served["paths"] if p.startswith("/api/v1/agent/")}
    assert agent_paths == {
        "/api/v1/agent/activate",
        "/api/v1/agent/heartbeat",
        "/api/v1/agent/keys",
        "/api/v1/agent/events",
        "/api/v1/agent/evidence/{item_id}",
        "/api/v1/agent/handin",
        "/api/v1/agent/close",
        "/api/v1/agent/assignment",
        "/api/v1/agent/assignment/files/{index}",
        "/api/v1/agent/assignment/received",
        "/api/v1/agent/assignment/opened",
    }
