"""What a trusted pickle or joblib file may import, enforced while it loads.

Scanning a file before loading it is not enough: joblib interleaves raw array bytes with pickle
opcodes (a scanner loses its place after the first array and cannot see what follows), and the
scientific libraries themselves hold functions that run code or write files
(``numpy.testing._private.utils.runstring`` executes a string; ``joblib.numpy_pickle.load``
unpickles another file unchecked; ``numpy.memmap`` and ``scipy.io`` classes write files). So the
loader resolves every global through ``refusal`` as the unpickler meets it: classes from the
scientific stack, a short list of reconstructors, and the types the configuration names.
"""

from __future__ import annotations

import importlib
import io
import warnings
from collections.abc import Sequence
from functools import cache
from typing import Any

# Builtins and helpers pickle itself emits for plain data.
SAFE_EXACT = frozenset(
    {
        "builtins.slice",
        "builtins.complex",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "builtins.object",
        "copyreg._reconstructor",
        "_codecs.encode",
        "collections.OrderedDict",
        "collections.defaultdict",
        "joblib.numpy_pickle.NumpyArrayWrapper",
    }
)
# Functions (not classes) the scientific stack pickles its objects with.
RECONSTRUCTORS = frozenset(
    {
        "numpy.core.multiarray._reconstruct",
        "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy._core.numeric._frombuffer",
        "numpy.ma.core._mareconstruct",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random._pickle.__generator_ctor",
    }
)
STACK = ("sklearn", "numpy", "scipy")
# Parts of the stack no model needs, that run code, compile, load libraries or touch files.
NEVER = frozenset({"testing", "_testing", "tests", "f2py", "distutils", "ctypeslib", "_datasource"})
SCIPY_CLASSES = ("scipy.sparse", "scipy.stats", "scipy.interpolate", "scipy.spatial")
# Top-level names under which a Cython extension of the stack registers itself, so pickles made
# with that release name the short module: scikit-learn 1.7 writes ``_loss.CyHalfBinomialLoss``
# for the loss object of every HistGradientBoosting model. Each is checked as the real module.
ALIASES = {"_loss": "sklearn._loss._loss"}


def refusal(module: str, name: str, trusted_types: Sequence[str] = ()) -> str | None:
    """Why loading may not import ``module.name``, or None when it may."""
    full = f"{module}.{name}"
    if full in SAFE_EXACT or full in trusted_types:
        return None
    module = ALIASES.get(module, module)
    root = module.split(".", 1)[0]
    if root not in STACK:
        return f"{full} is outside the scientific stack (list it in model.trusted_types)"
    if NEVER.intersection(module.split(".")):
        return f"{full} comes from a part of {root} that can run code or touch files"
    if full in RECONSTRUCTORS or name.startswith("__pyx_unpickle_"):
        return None
    if root == "sklearn" and name == "newObj":
        return None  # the unpickling helper of sklearn's Cython trees and distance metrics
    return _class_refusal(module, name)


@cache
def _class_refusal(module: str, name: str) -> str | None:
    full = f"{module}.{name}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obj: Any = importlib.import_module(module)
            for part in name.split("."):
                obj = getattr(obj, part)
    except Exception:  # noqa: BLE001 - any failure to resolve the name is a refusal
        return f"{full} does not exist in the installed {module.split('.', maxsplit=1)[0]}"
    if module.startswith("numpy"):
        import numpy as np

        if isinstance(obj, np.ufunc):
            return None  # element-wise math (np.log1p in a FunctionTransformer)
    if not isinstance(obj, type):
        return f"{full} is a function, not a class: calling it while loading could run code"
    if module.startswith("numpy"):
        import numpy as np

        if issubclass(obj, np.memmap):
            return f"{full} maps files into memory and can write them"
        if not (issubclass(obj, (np.ndarray, np.dtype, np.generic)) or ".random" in module):
            return f"{full} is not an array, dtype, scalar or random generator type"
    if module.startswith("scipy") and not module.startswith(SCIPY_CLASSES):
        return f"{full} is outside scipy's sparse, stats, interpolate and spatial modules"
    return None


class RefusedGlobal(Exception):
    """Raised inside the unpickler; the caller turns it into an UnsafeModelError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def restricted_load(data: bytes, trusted_types: Sequence[str] = ()) -> Any:
    """Unpickle a pickle or joblib file (plain or compressed), checking every global it imports;
    RefusedGlobal on the first one ``refusal`` rejects."""

    def find_class(real: Any, module: str, name: str) -> Any:
        reason = refusal(module, name, trusted_types)
        if reason is not None:
            raise RefusedGlobal(reason)
        return real(ALIASES.get(module, module), name)

    return _unpickle(data, find_class)


class _Stub:
    """What a dry run returns for a class it does not build: accepts anything, does nothing."""

    def __new__(cls, *args: Any, **kwargs: Any) -> _Stub:  # noqa: ARG004 - any signature
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def append(self, item: Any) -> None:
        pass

    def extend(self, items: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


# What a dry run really builds: the pieces joblib needs to find where each array's raw bytes
# end (so the opcodes after them are read), and pickle's own helpers for plain data.
_DRY_RUN_REAL = SAFE_EXACT | RECONSTRUCTORS


def list_globals(data: bytes) -> tuple[list[tuple[str, str]], str | None]:
    """Every (module, name) a pickle or joblib file imports, found by a dry run that builds only
    arrays and plain data (everything else is a stub that runs nothing); and None, or why the
    run stopped early (what follows was not seen)."""
    import numpy as np

    seen: list[tuple[str, str]] = []

    def find_class(real: Any, module: str, name: str) -> Any:
        seen.append((module, name))
        full = f"{module}.{name}"
        if full in _DRY_RUN_REAL and refusal(module, name) is None:
            return real(module, name)
        if module.split(".", 1)[0] == "numpy" and refusal(module, name) is None:
            found = real(module, name)
            if isinstance(found, type) and (
                ".random" in module or issubclass(found, (np.ndarray, np.dtype, np.generic))
            ):
                return found  # arrays, dtypes, scalars (array bytes are read by them), generators
        return type(name.rsplit(".", 1)[-1], (_Stub,), {"__module__": module})

    try:
        _unpickle(data, find_class)
    except Exception as exc:  # noqa: BLE001 - a stream the dry run cannot follow
        return seen, f"{type(exc).__name__}: {exc}"
    return seen, None


def _unpickle(data: bytes, find_class: Any) -> Any:
    from joblib import numpy_pickle

    class Unpickler(numpy_pickle.NumpyUnpickler):  # type: ignore[misc]
        def find_class(self, module: str, name: str) -> Any:
            return find_class(super().find_class, module, name)

    Restricted = Unpickler  # noqa: N806
    opener = getattr(numpy_pickle, "_validate_fileobject_and_memmap", None)
    if opener is None:  # joblib < 1.5
        from joblib.numpy_pickle_utils import _read_fileobject

        with _read_fileobject(io.BytesIO(data), "", None) as fobj:
            if isinstance(fobj, str):
                raise RefusedGlobal("a joblib file older than 0.10 (companion files)")
            return Restricted("", fobj, None).load()
    with opener(io.BytesIO(data), "", None) as (fobj, _):
        if isinstance(fobj, str):
            raise RefusedGlobal("a joblib file older than 0.10 (companion files)")
        return Restricted("", fobj, ensure_native_byte_order=True).load()
