"""IP address privacy: ``[filters] ip = keep | hash | drop``.

``hash`` replaces an address by a keyed hash (HMAC-SHA256, 16 hex digits): the same
address gives the same value on this install, so operators can still tell players apart,
but a plain hash of an IPv4 address could be reversed by trying all 2**32 of them, so the
key is a random secret kept in the state directory (mode 0600) and never sent.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import Any, Literal

IpMode = Literal["keep", "hash", "drop"]
KEY_FILE_NAME = "ip-hash.key"


def load_or_create_key(state_dir: Path) -> bytes:
    """The install's IP hashing key, created (0600) on first use.

    ``state_dir`` must exist: the caller creates it through
    :func:`agent.state.statedir.ensure_state_dir` (this layer may not import agent.state).
    """
    path = state_dir / KEY_FILE_NAME
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key.hex())
    return key


def hash_ip(ip: str, key: bytes) -> str:
    """A stable, non-reversible stand-in for an address."""
    return "h:" + hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()[:16]


def apply_ip_policy(fields: dict[str, Any], mode: IpMode, key: bytes | None) -> dict[str, Any]:
    """Fields with ``ip`` kept, hashed or removed (a new dict only when something changes)."""
    if mode == "keep" or "ip" not in fields:
        return fields
    changed = dict(fields)
    if mode == "drop":
        del changed["ip"]
        changed.pop("port", None)
    else:
        if key is None:
            raise ValueError("ip = hash needs a key")
        changed["ip"] = hash_ip(str(fields["ip"]), key)
    return changed
