"""Minimal logs: what Invigil keeps about a client's network and software, and nothing more.

- An address becomes its network: IPv4 /24, IPv6 /48. Enough to rate-limit guessing from one
  network, not enough to single out a home.
- Agent and browser descriptions become a product family, a major version and an OS family
  ("invigil-agent 0.1", "Firefox 133 on Linux"): enough to answer "which versions are still out
  there", not enough to fingerprint a device. Host names, kernel builds and the like are dropped.
- ``RedactAddresses`` rewrites any full address that still finds its way into a log message.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping

IPV4_PREFIX, IPV6_PREFIX = 24, 48
OS_FAMILIES = (
    ("windows", "Windows"),
    ("mac os", "macOS"),
    ("macos", "macOS"),
    ("darwin", "macOS"),
    ("iphone", "iOS"),
    ("ipad", "iOS"),
    ("android", "Android"),
    ("cros", "ChromeOS"),
    ("linux", "Linux"),
)
BROWSERS = (  # order matters: Edge and Opera also say Chrome, Chrome also says Safari
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("Version/", "Safari"),
)
AGENT_FIELDS = ("agent", "os")  # all the server keeps of what an agent says about itself


def network_of(host: str) -> str:
    """The network an address belongs to; anything that is not an address is cut short."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack socket's view of an IPv4 client
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def os_family(text: str) -> str:
    low = text.lower()
    return next((name for needle, name in OS_FAMILIES if needle in low), "other")


def _major(text: str) -> str:
    """'invigil-agent/0.1.7' -> 'invigil-agent 0.1'; the name is kept to 32 plain characters."""
    name, _, version = text.partition("/")
    name = re.sub(r"[^A-Za-z0-9._-]", "", name)[:32] or "unknown"
    parts = re.findall(r"\d+", version)[:2]
    return f"{name} {'.'.join(parts)}" if parts else name


def generalise_agent(info: Mapping[str, str]) -> dict[str, str]:
    """What an agent reported at activation -> its product and major version, and its OS family."""
    out = {"agent": _major(str(info.get("agent", "unknown")))}
    platform = " ".join(str(info.get(k, "")) for k in ("os", "platform", "system"))
    out["os"] = os_family(platform)
    return out


def generalise_user_agent(user_agent: str) -> str:
    """A browser's User-Agent header -> "Firefox 133 on Linux"."""
    browser = "other browser"
    for marker, name in BROWSERS:
        if marker in user_agent:
            version = re.match(r"\d+", user_agent.split(marker, 1)[1])
            browser = f"{name} {version.group(0)}" if version else name
            break
    return f"{browser} on {os_family(user_agent)}"


_ADDRESS = re.compile(
    r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w.:/])"
)


class RedactAddresses(logging.Filter):
    """A logging filter: every full IP address in a record's message becomes its network."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _ADDRESS.sub(lambda m: _redact(m.group(0)), message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _redact(candidate: str) -> str:
    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return candidate  # a time like 12:30:45, not an address
    return network_of(candidate)


SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def install_log_redaction() -> None:
    """Attach the filter to the root logger's handlers (what propagates there) and to the web
    server's own loggers (which log through handlers of their own). Idempotent."""
    targets: list[logging.Filterer] = [*logging.getLogger().handlers]
    targets += [logging.getLogger(name) for name in SERVER_LOGGERS]
    for target in targets:
        if not any(isinstance(f, RedactAddresses) for f in target.filters):
            target.addFilter(RedactAddresses())
