"""File identity by content: a fingerprint of a file's first bytes (decompressed for .gz).

A rotated ``latest.log`` keeps its first bytes when it is renamed and gzipped, so the
fingerprint recognises it under its new name (shared/DESIGN.md, invariant 5).

Rules
-----
* The fingerprint covers the first ``FINGERPRINT_BYTES`` (4096) bytes of the stream. 4 KiB
  rather than one line: servers restarted by cron at the same wall-clock second write the
  same first lines every day, so a short head would give two different days' files the
  same identity. Within 4 KiB a 1.7+ start-up prints timings and world names that differ.
* A file shorter than that is still known: its fingerprint covers all of its bytes and
  records how many, as ``<hex>:<n>``. A full-length fingerprint is plain ``<hex>``. Log
  files only grow, so the first ``n`` bytes of a short file never change, and
  :func:`matches` compares a stored fingerprint with the first ``n`` bytes of a candidate.
* As a followed file grows past ``n``, the tailer upgrades the fingerprint it hands on
  (until it reaches full length). Checkpoints and event ids downstream then carry the
  newer fingerprint; identity matching stays correct because every upgrade is a prefix
  of the same stream.
* An empty file has no fingerprint (:func:`fingerprint` must not be called with ``b""``):
  there is nothing to checkpoint in it.

Known limit: two files whose first 4 KiB are identical (or two short files with identical
content) cannot be told apart; the tailer's tie-break is documented in agent/sources/tail/plan.py.
"""

from __future__ import annotations

import hashlib

FINGERPRINT_BYTES = 4096


def fingerprint(head: bytes) -> str:
    """Fingerprint of a stream from its first bytes (only the first FINGERPRINT_BYTES count)."""
    covered = head[:FINGERPRINT_BYTES]
    digest = hashlib.blake2b(covered, digest_size=16).hexdigest()
    if len(covered) == FINGERPRINT_BYTES:
        return digest
    return f"{digest}:{len(covered)}"


def fingerprint_length(value: str) -> int:
    """How many leading bytes of the stream a fingerprint covers."""
    _, sep, count = value.partition(":")
    return int(count) if sep else FINGERPRINT_BYTES


def matches(value: str, head: bytes) -> bool:
    """True if ``head`` (a stream's first bytes) starts with the bytes ``value`` covers."""
    length = fingerprint_length(value)
    return len(head) >= length and fingerprint(head[:length]) == value


def is_complete(value: str) -> bool:
    """True if the fingerprint covers the full FINGERPRINT_BYTES (it will not change)."""
    return ":" not in value
