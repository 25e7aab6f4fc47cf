"""Reading a log file's bytes: plain or gzip (recognised by its magic bytes), in chunks,
never the whole file in memory, with its first bytes available for the fingerprint.

Used by ``parse`` and ``backfill``; the tailer has its own reader, which also follows
files that are still growing.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import BinaryIO

from agent.parse.fingerprint import FINGERPRINT_BYTES

CHUNK_BYTES = 256 * 1024
_GZIP_MAGIC = b"\x1f\x8b"


def read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream's bytes in chunks; a gzip stream (by its magic bytes) decompressed."""
    head = stream.read(CHUNK_BYTES)
    if head[:2] == _GZIP_MAGIC:
        unzipped = gzip.GzipFile(fileobj=_Prepend(head, stream), mode="rb")
        while chunk := unzipped.read1(CHUNK_BYTES):  # read1: what came before an error
            yield chunk
        return
    while head:
        yield head
        head = stream.read(CHUNK_BYTES)


class _Prepend:
    """A read-only file object: ``head`` followed by the rest of ``stream``."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size < 0 or size >= len(self._head):
                data, self._head = self._head, b""
                rest = self._stream.read(-1 if size < 0 else size - len(data))
                return data + rest
            data, self._head = self._head[:size], self._head[size:]
            return data
        return self._stream.read(size)


def with_head(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """The first FINGERPRINT_BYTES of the stream (for its identity) and all its chunks."""
    held: list[bytes] = []
    size = 0
    for chunk in chunks:
        held.append(chunk)
        size += len(chunk)
        if size >= FINGERPRINT_BYTES:
            break
    head = b"".join(held)

    def replay() -> Iterator[bytes]:
        yield from held
        yield from chunks

    return head[:FINGERPRINT_BYTES], replay()
