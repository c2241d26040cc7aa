"""Signs about the computer itself, sent as events (docs/protocol.md, "Activity events"):

- ``environment.checked``: virtual-machine signs (the DMI product name and vendor in
  /sys/class/dmi/id, the ``hypervisor`` CPU flag) and remote-desktop signs (known remote-control
  programs running, an ``xrdp`` session). Only booleans and fixed sign names travel, never the
  values read (no serial numbers, no MAC addresses: those are not collected at all).
- ``storage.inserted`` / ``storage.removed``: removable storage, from a diff of ``psutil``'s
  partition list, with its ``bus`` only (no label, no mount point).

Linux is tested; the Windows and macOS paths (drive types from ``psutil``, no DMI) are untested.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from invigil.analysis.activity import REMOTE_DESKTOP_PROGRAMS
from invigil.kit.clock import iso, utcnow

DMI = Path("/sys/class/dmi/id")
# Lower-case fragments of DMI product names and vendors that only virtual machines report.
VM_DMI = {
    "virtualbox": "dmi_virtualbox",
    "vmware": "dmi_vmware",
    "kvm": "dmi_kvm",
    "qemu": "dmi_qemu",
    "virtual machine": "dmi_hyperv",  # Microsoft's Hyper-V: "Virtual Machine"
    "parallels": "dmi_parallels",
    "xen": "dmi_xen",
    "bochs": "dmi_bochs",
}
REMOTE_EXTRA = ("xrdp", "xrdp-sesman", "vncserver", "xvnc", "x0vncserver", "teamviewerd", "anydesk")


def vm_signs(dmi: Path = DMI, cpuinfo: Path = Path("/proc/cpuinfo")) -> list[str]:
    """Fixed names of the virtual-machine signs present (Linux)."""
    signs: list[str] = []
    for field in ("product_name", "sys_vendor", "board_vendor"):
        try:
            value = (dmi / field).read_text(errors="replace").strip().lower()
        except OSError:
            continue
        for fragment, sign in VM_DMI.items():
            if fragment in value and sign not in signs:
                signs.append(sign)
    try:
        with cpuinfo.open(errors="replace") as f:
            for line in f:
                if line.startswith("flags") and " hypervisor" in line:
                    signs.append("cpu_hypervisor_flag")
                    break
    except OSError:
        pass
    return signs


def remote_signs(process_names: Iterable[str]) -> list[str]:
    """Fixed names of the remote-desktop programs running (``remote:<program>``)."""
    known = set(REMOTE_DESKTOP_PROGRAMS) | set(REMOTE_EXTRA)
    found = []
    for name in process_names:
        stem = name.lower().rsplit("/", 1)[-1].removesuffix(".exe")
        if stem in known and f"remote:{stem}" not in found:
            found.append(f"remote:{stem}")
    return sorted(found)


def _process_names() -> list[str]:
    import psutil

    return [p.info.get("name") or "" for p in psutil.process_iter(["name"])]


def environment_check(
    vm: Callable[[], list[str]] = vm_signs, names: Callable[[], list[str]] = _process_names
) -> dict[str, Any]:
    v, r = vm() if sys.platform.startswith("linux") else [], remote_signs(names())
    return {"virtual_machine": bool(v), "vm_signs": v, "remote_desktop": bool(r), "remote_signs": r}


class Environment:
    """Event source: ``environment.checked`` at the start and whenever the check's answer changes."""

    kind = "environment"

    def __init__(self, check: Callable[[], dict[str, Any]] = environment_check) -> None:
        self._check = check
        self._last: dict[str, Any] | None = None

    def poll(self) -> list[dict[str, Any]]:
        now = self._check()
        if now == self._last:
            return []
        self._last = now
        return [{"type": "environment.checked", "at": iso(utcnow()), "data": now}]


@dataclass(frozen=True)
class Volume:
    """A mounted partition: ``device`` is the key of the diff and never leaves the computer."""

    device: str
    bus: str


def removable_volumes(partitions: Iterable[Any]) -> list[Volume]:
    """The removable ones among ``psutil.disk_partitions()`` (objects with device, mountpoint, opts)."""
    out = []
    for p in partitions:
        bus = _removable_bus(str(p.device), str(p.mountpoint), str(getattr(p, "opts", "")))
        if bus:
            out.append(Volume(str(p.device), bus))
    return out


def _removable_bus(device: str, mountpoint: str, opts: str) -> str | None:
    if sys.platform == "win32":  # untested: psutil marks USB sticks and card readers "removable"
        return "usb" if "removable" in opts else None
    if sys.platform == "darwin":  # untested: external volumes live under /Volumes
        return "usb" if mountpoint.startswith("/Volumes/") else None
    name = device.rsplit("/", 1)[-1]
    if name.startswith("mmcblk"):
        return "sd"
    base = name.rstrip("0123456789")
    try:
        if (Path("/sys/block") / base / "removable").read_text().strip() == "1":
            return "usb"
        if "/usb" in str((Path("/sys/block") / base).resolve()):
            return "usb"  # USB disks that call themselves fixed
    except OSError:
        pass
    if mountpoint.startswith(("/media/", "/run/media/")):
        return "usb"
    return None


def storage_events(before: Iterable[Volume], after: Iterable[Volume]) -> list[dict[str, Any]]:
    """What changed between two lists of removable volumes: inserted first, then removed."""
    old, new = {v.device: v for v in before}, {v.device: v for v in after}
    at = iso(utcnow())
    return [
        *(
            {"type": "storage.inserted", "at": at, "data": {"bus": v.bus}}
            for d, v in new.items()
            if d not in old
        ),
        *(
            {"type": "storage.removed", "at": at, "data": {"bus": v.bus}}
            for d, v in old.items()
            if d not in new
        ),
    ]


def _partitions() -> list[Any]:
    import psutil

    return list(psutil.disk_partitions(all=False))


class RemovableStorage:
    """Event source: a stick present at the start counts as inserted at the start."""

    kind = "removable_storage"

    def __init__(self, partitions: Callable[[], list[Any]] = _partitions) -> None:
        self._partitions = partitions
        self._known: list[Volume] = []

    def poll(self) -> list[dict[str, Any]]:
        now = removable_volumes(self._partitions())
        events = storage_events(self._known, now)
        self._known = now
        return events
