"""Minimal logs: networks instead of addresses, product families instead of fingerprints."""

from __future__ import annotations

import logging

import pytest

from invigil.kit.minimal import RedactAddresses, generalise_agent, generalise_user_agent, network_of


@pytest.mark.parametrize(
    ("host", "network"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:1234:5678::9", "2001:db8:1234::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),
        ("testclient", "testclient"),
    ],
)
def test_addresses_become_networks(host: str, network: str) -> None:
    assert network_of(host) == network


def test_agent_info_keeps_product_major_version_and_os_family_only() -> None:
    reported = {
        "agent": "invigil-agent/0.1.7+build.42",
        "os": "Linux 6.1.0-13-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1",
        "hostname": "annas-laptop",
        "machine_id": "4c4c4544-0042-3510-8048",
    }
    assert generalise_agent(reported) == {"agent": "invigil-agent 0.1", "os": "Linux"}
    assert generalise_agent({}) == {"agent": "unknown", "os": "other"}
    assert generalise_agent({"agent": "<script>/9", "os": "Windows 11 Pro 23H2"}) == {
        "agent": "script 9",
        "os": "Windows",
    }


@pytest.mark.parametrize(
    ("ua", "general"),
    [
        ("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox 133 on Linux"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86",
            "Edge 131 on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/18.1 Safari/605.1.15",
            "Safari 18 on macOS",
        ),
        ("curl/8.5.0", "other browser on other"),
    ],
)
def test_user_agents_are_generalised(ua: str, general: str) -> None:
    assert generalise_user_agent(ua) == general


def test_log_lines_lose_full_addresses_but_not_times(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("invigil.test.minimal")
    log.addFilter(RedactAddresses())
    with caplog.at_level(logging.INFO, logger="invigil.test.minimal"):
        log.info("refused %s and %s at 12:30:45 (v1.2.3.4.5)", "203.0.113.77", "2001:db8:1234:5678::9")
    message = caplog.records[0].getMessage()
    assert "203.0.113.77" not in message
    assert "203.0.113.0/24" in message
    assert "2001:db8:1234::/48" in message
    assert "12:30:45" in message


def test_fastapi_sends_nothing_to_opentelemetry_even_where_a_provider_is_configured(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FastAPI's own spans would carry full client addresses and paths (a portal link is a path)."""
    from opentelemetry import trace

    from invigil.app import create_app
    from invigil.config import Settings

    class Configured(trace.NoOpTracerProvider):
        pass  # anything but the default proxy counts as "configured" to FastAPI

    monkeypatch.setattr(trace, "get_tracer_provider", lambda: Configured())
    app = create_app(Settings(data_dir=tmp_path))
    assert app._native_telemetry.enabled() is False
