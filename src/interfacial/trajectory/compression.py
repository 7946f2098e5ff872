"""Compressed trajectory files (``.gz``, ``.bz2``, ``.xz``), read as streams.

AIMD trajectories are published and archived compressed (``XDATCAR.gz``, ``vasprun.xml.gz``).
The standard library's :mod:`gzip`, :mod:`bz2` and :mod:`lzma` decompress while reading, so a
text reader still holds one frame at a time. A format that needs a seekable file (ASE's binary
``.traj``) gets a decompressed temporary copy that is removed however reading ends
(:func:`decompressed_copy`).

A corrupt or truncated archive surfaces while reading, from deep inside the decompressor, as
``EOFError``, ``OSError`` (``gzip.BadGzipFile``), ``zlib.error`` or ``lzma.LZMAError``:
:func:`archive_errors` turns each into one :class:`~interfacial.errors.InterfacialError` naming
the file.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from interfacial.errors import InterfacialError

__all__ = [
    "COMPRESSIONS",
    "archive_errors",
    "compression_of",
    "decompressed_copy",
    "open_binary",
    "open_text",
    "uncompressed_name",
]

#: File-name suffix -> compression (the module that reads it).
COMPRESSIONS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz"}

# Errors a decompressor raises for a damaged archive.
_ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error, lzma.LZMAError)


def compression_of(path: str | os.PathLike[str]) -> str | None:
    """``"gzip"``, ``"bzip2"`` or ``"xz"`` from the file name's last suffix, else None."""
    return COMPRESSIONS.get(Path(path).suffix.lower())


def uncompressed_name(path: str | os.PathLike[str]) -> str:
    """The file name without its compression suffix: ``XDATCAR.gz`` -> ``XDATCAR``."""
    name = Path(path).name
    return name[: -len(Path(name).suffix)] if compression_of(name) else name


def open_binary(path: Path) -> IO[bytes]:
    """``path`` opened for reading bytes, decompressed on the fly when its name says so."""
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    return path.open("rb")


def open_text(path: Path) -> IO[str]:
    """``path`` opened for reading UTF-8 text, decompressed on the fly when its name says so."""
    kind = compression_of(path)
    if kind == "gzip":
        return gzip.open(path, "rt", encoding="utf-8")
    if kind == "bzip2":
        return bz2.open(path, "rt", encoding="utf-8")
    if kind == "xz":
        return lzma.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


@contextmanager
def archive_errors(path: Path) -> Iterator[None]:
    """Report a damaged archive (or an unreadable file) as one InterfacialError naming ``path``."""
    try:
        yield
    except InterfacialError:
        raise
    except _ARCHIVE_ERRORS as exc:
        kind = compression_of(path)
        if kind is None:
            if isinstance(exc, OSError):
                raise InterfacialError(f"{path}: cannot be read ({exc}); check the file") from None
            raise
        reason = str(exc) or type(exc).__name__
        raise InterfacialError(
            f"{path}: corrupt or truncated {kind} archive ({reason}); download or copy it again, "
            f"or check it with `{_CHECKERS[kind]} {path.name}`"
        ) from None


_CHECKERS = {"gzip": "gzip -t", "bzip2": "bzip2 -t", "xz": "xz -t"}


@contextmanager
def decompressed_copy(path: Path) -> Iterator[Path]:
    """``path`` itself, or a decompressed temporary copy that is removed on exit.

    For readers that need a seekable file on disk (ASE's binary ``.traj``). The copy is
    written in the system's temporary directory under the uncompressed name's suffix, so a
    reader that looks at the name sees the real format.
    """
    if compression_of(path) is None:
        yield path
        return
    fd, name = tempfile.mkstemp(suffix="-" + uncompressed_name(path))
    copy = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, archive_errors(path), open_binary(path) as src:
            shutil.copyfileobj(src, out, length=1 << 20)
        yield copy
    finally:
        copy.unlink(missing_ok=True)
