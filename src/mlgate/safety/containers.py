"""joblib's compressed containers, opened the way joblib opens them, with a bounded size.

joblib picks the decompressor from the first bytes of the file (``ZF`` is the pre-0.9.3 format
with companion files, then zlib, gzip, bz2, lzma, xz, lz4) and reads concatenated compressed
streams one after the other; so does ``decompress``. What it returns is the exact byte string
that the scan judges and the loader then reads: nothing is decompressed twice, and no
decompressed size above ``MAX_DECOMPRESSED`` is ever held (a bomb is refused, not unpacked).
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from typing import Any

from mlgate.safety.picklewalk import Refused

MAX_DECOMPRESSED = 2 << 30  # 2 GiB: far above a model a pull request checks and serves
_CHUNK = 1 << 20
PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"ZF", "compat"),
    (b"\x78", "zlib"),
    (b"\x1f\x8b", "gzip"),
    (b"BZ", "bz2"),
    (b"\x5d\x00", "lzma"),
    (b"\xfd\x37\x7a\x58\x5a", "xz"),
    (b"\x04\x22\x4d\x18", "lz4"),
)


def compression(data: bytes) -> str | None:
    """The compressor joblib would use for ``data``, or None for an uncompressed file."""
    for prefix, name in PREFIXES:
        if data.startswith(prefix):
            return name
    return None


def _factory(name: str) -> Callable[[], Any]:
    if name == "zlib":
        return lambda: zlib.decompressobj(zlib.MAX_WBITS)
    if name == "gzip":
        return lambda: zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "bz2":
        return bz2.BZ2Decompressor
    if name == "xz":
        return lambda: lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
    return lambda: lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)


def decompress(data: bytes, name: str, limit: int | None = None) -> bytes:
    """The decompressed content of a joblib file compressed with ``name``; Refused above
    ``limit`` bytes (default ``MAX_DECOMPRESSED``), for lz4 and the old companion-file format."""
    if name == "compat":
        raise Refused("a joblib file older than 0.10 (its arrays live in companion files)")
    if name == "lz4":
        raise Refused(
            "an lz4-compressed joblib file (mlgate reads zlib, gzip, bz2, lzma and xz ones)"
        )
    bound = MAX_DECOMPRESSED if limit is None else limit
    make = _factory(name)
    out = bytearray()
    pending = data
    try:
        while pending:
            # One call per stream: it ends the stream, passes the bound (output is cut at one
            # byte over it), or has used all the input without reaching the end (truncated).
            decompressor = make()
            out += decompressor.decompress(pending, bound - len(out) + 1)
            if len(out) > bound:
                raise Refused(
                    f"the {name} stream decompresses to more than {bound} bytes "
                    "(a decompression bomb, or a model too large to scan)"
                )
            if not decompressor.eof:
                raise Refused(f"the {name} stream is truncated")
            pending = decompressor.unused_data
    except (zlib.error, lzma.LZMAError, OSError, EOFError, ValueError) as exc:
        raise Refused(f"the {name} stream is corrupt ({exc})") from None
    return bytes(out)
