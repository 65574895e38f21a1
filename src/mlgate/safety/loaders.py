"""The second wall: unpickling that resolves only names on the exact allow-list.

A file reaches these loaders only after its static judgement passed. They read the same bytes
(decompressed once) with Python's own unpickler, whose ``find_class`` is replaced: a name is
imported only when it is on the list exactly (after the protocol 0-2 renames the unpickler
itself applies), and it is resolved by importing that module (for a listed alias such as
``_loss``, the real module it names) and reading that qualified name, never through ``getattr``
chains of other objects. Persistent ids and extensions are refused.
joblib files are read as joblib writes them (arrays after their wrapper, object arrays as a
nested stream read by the same restricted unpickler); memory maps are never made.
"""

from __future__ import annotations

import importlib
import io
import pickle
from typing import Any

from mlgate.safety import allowlist
from mlgate.safety.picklewalk import WRAPPER, python2_name


class RefusedGlobal(Exception):
    """Raised inside the unpickler; the caller turns it into an UnsafeModelError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _resolve(module: str, name: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# Python's own unpickler (not the C one): exact byte positions and a readable state.
_PyUnpickler: Any = getattr(pickle, "_Unpickler")  # noqa: B009 - private, untyped in typeshed


class _Restricted(_PyUnpickler):  # type: ignore[misc]
    """Python's unpickler (exact byte positions, readable state) with an exact find_class."""

    def __init__(self, file: io.BytesIO, allowed: allowlist.Allowlist, *, joblib: bool) -> None:
        super().__init__(file)
        self._raw = file
        self._allowed = allowed
        self._joblib = joblib

    def find_class(self, module: str, name: str) -> Any:
        if self.proto < 3:
            module, name = python2_name(module, name)
        if (module, name) == WRAPPER and not self._joblib:
            raise RefusedGlobal("joblib's array wrapper in a file that is not read as joblib")
        if not any(self._allowed.allows(module, name, use) for use in allowlist.USES):
            raise RefusedGlobal(f"{module}.{name} is not on mlgate's allow-list")
        return _resolve(self._allowed.real_module(module), name)

    def persistent_load(self, pid: Any) -> Any:  # noqa: ARG002 - any id is refused
        raise RefusedGlobal("a persistent id (resolved by code outside the file)")

    def load_build(self) -> None:
        super().load_build()
        if not self._joblib:
            return
        from joblib.numpy_pickle import NumpyArrayWrapper

        if type(self.stack[-1]) is NumpyArrayWrapper:
            frame = self._unframer.current_frame
            if frame is not None and frame.tell() < len(frame.getbuffer()):
                raise RefusedGlobal("joblib array data inside a pickle frame")
            self.stack[-1] = self._read_array(self.stack[-1])

    dispatch = _PyUnpickler.dispatch.copy()
    dispatch[pickle.BUILD[0]] = load_build

    def _read_array(self, wrapper: Any) -> Any:
        import numpy as np

        dtype, shape, order = wrapper.dtype, wrapper.shape, wrapper.order
        if not isinstance(dtype, np.dtype) or order not in ("C", "F"):
            raise RefusedGlobal("joblib's array wrapper without a dtype and order")
        if dtype.hasobject:
            return _Restricted(self._raw, self._allowed, joblib=False).load()
        if getattr(wrapper, "numpy_array_alignment_bytes", None) is not None:
            padding = self._raw.read(1)
            self._raw.read(padding[0] if padding else 0)
        count = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
        data = self._raw.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise RefusedGlobal("joblib array data runs past the end of the file")
        array = np.frombuffer(data, dtype=dtype, count=count).copy()
        array = array.reshape(shape[::-1]).T if order == "F" else array.reshape(shape)
        if not dtype.isnative:
            array = array.astype(dtype.newbyteorder("="))
        return array


def restricted_load(payload: bytes, fmt: str, trusted_types: tuple[str, ...] = ()) -> Any:
    """Unpickle ``payload`` (already judged; joblib: already decompressed) resolving only
    allow-listed names; RefusedGlobal on the first other one."""
    allowed = allowlist.for_model(trusted_types)
    unpickler = _Restricted(io.BytesIO(payload), allowed, joblib=fmt == "joblib")
    return unpickler.load()
