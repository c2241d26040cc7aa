"""What the administrative commands share: the installation from the environment, and secrets read
from a file, an environment variable or a prompt (never from the command line)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Any

from invigil.config import Settings


def ask(path: str | None, env: str, prompt: str, confirm: bool = False) -> str:
    """A secret from a file, an environment variable (for scripted installs) or a prompt."""
    if path:
        return Path(path).read_text().strip()
    if os.environ.get(env):
        return os.environ[env]
    if not sys.stdin.isatty():
        raise SystemExit(f"No terminal to ask for the {prompt.lower()}: give it in a file instead.")
    first = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass("Again: ") != first:
        raise SystemExit("The passphrases differ.")
    return first


def container() -> Any:
    """The installation INVIGIL_* points at (the caller closes it)."""
    from invigil.container import Container

    return Container.from_settings(Settings())
