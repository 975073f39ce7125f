"""The embedded default's own keys: random on first run, kept in the data folder so a restart
keeps its sessions. No key in the source ever signs anything."""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

KEY_NAMES = ("SECRET_KEY", "JWT_SIGNING_KEY")


def _read(path: Path) -> dict[str, str] | None:
    try:
        keys = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None
    if isinstance(keys, dict) and all(isinstance(keys.get(name), str) and len(keys[name]) >= 50 for name in KEY_NAMES):
        return keys
    return None


def embedded_keys(path: Path) -> dict[str, str]:
    """The keys stored at `path`, made (readable by the owner only) when missing or damaged. Two
    processes starting at once agree: the file is created exclusively and the loser reads it."""
    if (keys := _read(path)) is not None:
        return keys
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = {name: secrets.token_urlsafe(50) for name in KEY_NAMES}
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if (existing := _read(path)) is not None:
            return existing
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)  # damaged: make it anew
    with os.fdopen(fd, "w") as file:
        json.dump(keys, file)
    return keys
