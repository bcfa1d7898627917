"""Readable binary streams that cannot seek, as uploads from pipes and generators are."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO


class GeneratorReader(io.RawIOBase):
    """A non-seekable raw stream over an iterable of byte chunks (reads return short, like a socket)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def generator_stream(chunks: Iterable[bytes]) -> BinaryIO:
    """``chunks`` as an unbuffered, non-seekable binary stream (each read returns at most one chunk)."""
    reader: BinaryIO = GeneratorReader(chunks)  # type: ignore[assignment]
    return reader


@contextmanager
def pipe_stream(data: bytes, *, write_size: int = 64 * 1024) -> Iterator[BinaryIO]:
    """The read end of an OS pipe while a thread writes ``data`` into it in ``write_size`` pieces."""
    read_fd, write_fd = os.pipe()
    errors: list[BaseException] = []

    def feed() -> None:
        try:
            with os.fdopen(write_fd, "wb", buffering=0) as sink:
                for at in range(0, len(data), write_size):
                    sink.write(data[at : at + write_size])
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    with os.fdopen(read_fd, "rb", buffering=0) as source:
        yield source
    writer.join(timeout=30)
    if errors:
        raise errors[0]
