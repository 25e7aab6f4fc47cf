"""File identity by content: a fingerprint of a file's first bytes (decompressed for .gz).

A rotated ``latest.log`` keeps its first bytes when it is renamed and gzipped, so the
fingerprint recognises it under its new name (shared/DESIGN.md, invariant 5).
"""

from __future__ import annotations

import hashlib

FINGERPRINT_BYTES = 1024


def fingerprint(head: bytes) -> str:
    """Fingerprint of a stream from its first bytes (only the first FINGERPRINT_BYTES count)."""
    return hashlib.blake2b(head[:FINGERPRINT_BYTES], digest_size=16).hexdigest()
