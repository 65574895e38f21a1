"""What a file is from its bytes, never from its name: how mlgate decides how to judge it.

``kind`` answers from the first bytes: a zip archive (skops, or another archive mlgate cannot
judge), a compressed joblib container (joblib's own magic numbers, in joblib's order), a pickle
stream (the PROTO header of protocols 2-5), or None. A file that answers None but is still to
be judged (named on the command line, or configured as a pickle) is judged as a pickle stream:
the walker refuses anything that is not one, so nothing unrecognised passes.
"""

from __future__ import annotations

from mlgate.safety.containers import compression

ZIP = b"PK\x03\x04"
# What an uncompressed joblib file holds wherever its first array is: joblib's array wrapper.
JOBLIB_MARK = b"joblib.numpy_pickle"


def kind(head: bytes) -> str | None:
    """``zip``, ``joblib`` (compressed), ``pickle`` (protocol 2-5 header) or None."""
    if head.startswith(ZIP):
        return "zip"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "pickle"
    if compression(head) in ("zlib", "gzip", "bz2", "xz", "lzma", "lz4", "compat"):
        return "joblib"
    return None


def pickle_family(data: bytes) -> str:
    """``joblib`` when a pickle-family file is read as joblib would read it (compressed, or its
    arrays wrapped by joblib), else ``pickle``."""
    if kind(data[:8]) == "joblib" or JOBLIB_MARK in data:
        return "joblib"
    return "pickle"
