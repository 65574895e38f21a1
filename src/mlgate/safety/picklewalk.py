"""Judge a pickle stream without running it: a symbolic unpickler over ``pickletools.genops``.

Every opcode is followed on a stack of symbolic values (constants, containers, named globals,
objects that calling or building would make), so a name is known however it was produced:
``GLOBAL`` and ``INST`` lines, ``STACK_GLOBAL`` over strings fetched from the memo or
duplicated, protocol 0-5, several streams one after the other. What the walk reports is every
global the stream names and how it is used: called (``REDUCE``, ``INST``, ``OBJ``), created
without ``__init__`` (``NEWOBJ``) or only referenced. Nothing is imported and nothing from the
file is built; the only real object made is a NumPy dtype from a short validated type code,
to know how many raw bytes a joblib array occupies.

Whatever the walk cannot follow exactly as the unpickler would is refused (``Refused``): a
name computed by a call, persistent ids, the extension registry, out-of-band buffers, calling
something that is not a named global, a malformed or truncated stream.

joblib files interleave raw array bytes with the opcodes: after ``BUILD`` of joblib's
``NumpyArrayWrapper`` the loader reads the array straight from the file. With ``joblib=True``
the walk does the same arithmetic from the wrapper's recorded shape and dtype and skips exactly
those bytes, or walks the nested pickle stream joblib writes for arrays of Python objects.
"""

from __future__ import annotations

import io
import pickletools
import re
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from dataclasses import dataclass
from typing import Any

# joblib's placeholder for an array whose bytes follow the opcodes.
WRAPPER = ("joblib.numpy_pickle", "NumpyArrayWrapper")
MAX_OPCODES = 50_000_000  # far above any real model; a bound on work for hostile input
_DTYPE_CODE = re.compile(r"[biufcOSUVMm][0-9]{0,6}")
_CONSTANTS = frozenset(
    {
        "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4",
        "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "SHORT_BINUNICODE",
        "BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
        "BYTEARRAY8", "FLOAT", "BINFLOAT",
    }
)  # fmt: skip
_REFUSED_OPCODES = {
    "PERSID": "a persistent id (resolved by code outside the file)",
    "BINPERSID": "a persistent id (resolved by code outside the file)",
    "EXT1": "the copyreg extension registry",
    "EXT2": "the copyreg extension registry",
    "EXT4": "the copyreg extension registry",
    "NEXT_BUFFER": "an out-of-band buffer",
    "READONLY_BUFFER": "an out-of-band buffer",
}


@dataclass(frozen=True)
class Reference:
    """One use of a global: ``use`` is ``call``, ``new`` (``__new__`` only) or ``ref``."""

    module: str
    name: str
    use: str
    offset: int

    @property
    def full(self) -> str:
        return f"{self.module}.{self.name}"


class Refused(Exception):
    """The stream cannot be judged without running it; ``references`` are those seen so far."""

    def __init__(self, reason: str, offset: int | None = None) -> None:
        where = f" (byte {offset})" if offset is not None else ""
        super().__init__(f"{reason}{where}")
        self.reason = f"{reason}{where}"
        self.references: tuple[Reference, ...] = ()


class _Global:
    __slots__ = ("module", "name", "offset")

    def __init__(self, module: str, name: str, offset: int) -> None:
        self.module, self.name, self.offset = module, name, offset


class _Object:
    """What calling or creating a global makes; ``kind`` is the class it is an instance of,
    when the walk knows it; ``attrs`` what BUILD gave it (for joblib's wrapper)."""

    __slots__ = ("args", "attrs", "kind", "state")

    def __init__(self, kind: tuple[str, str] | None, args: Any = ()) -> None:
        self.kind, self.args = kind, args
        self.state: Any = None
        self.attrs: dict[str, Any] = {}


class _Dict:
    __slots__ = ("items",)

    def __init__(self, items: list[tuple[Any, Any]] | None = None) -> None:
        self.items = items or []


class _Set:
    __slots__ = ("frozen", "items")

    def __init__(self, items: list[Any] | None = None, *, frozen: bool = False) -> None:
        self.items, self.frozen = items or [], frozen


def python2_name(module: str, name: str) -> tuple[str, str]:
    """The name protocol 0-2 pickles are resolved under (``fix_imports``, as the unpickler)."""
    if (module, name) in NAME_MAPPING:
        return NAME_MAPPING[(module, name)]
    if module in IMPORT_MAPPING:
        return IMPORT_MAPPING[module], name
    return module, name


def walk(data: bytes, *, joblib: bool = False) -> tuple[Reference, ...]:
    """Every global the pickle stream(s) in ``data`` use, in order; Refused when a stream
    cannot be judged statically. ``joblib``: follow joblib's raw array layout."""
    if not data:
        raise Refused("an empty file is not a pickle stream")
    walker = _Walker(data, joblib=joblib)
    try:
        while walker.stream.tell() < len(data):
            walker.one_stream(joblib=joblib)
    except Refused as exc:
        exc.references = tuple(walker.refs)
        raise
    except Exception as exc:  # a malformed stream in any way is a refusal
        refused = Refused(f"malformed pickle stream ({type(exc).__name__}: {exc})")
        refused.references = tuple(walker.refs)
        raise refused from None
    return tuple(walker.refs)


class _Walker:
    def __init__(self, data: bytes, *, joblib: bool) -> None:
        self.data = data
        self.stream = io.BytesIO(data)
        self.refs: list[Reference] = []
        self.opcodes = 0
        self.joblib = joblib

    def one_stream(self, *, joblib: bool) -> Any:  # noqa: PLR0912, PLR0915 - one opcode switch
        """Walk one stream to its STOP; return the symbolic value it unpickles to."""
        stack: list[Any] = []
        metastack: list[list[Any]] = []
        memo: dict[int, Any] = {}
        proto = 0
        frame_end: int | None = None

        def pop_mark() -> list[Any]:
            nonlocal stack
            if not metastack:
                raise Refused("a mark was expected on the stack", pos)
            items = stack
            stack = metastack.pop()
            return items

        def target() -> Any:
            if not stack:
                raise Refused("an opcode needs a value and the stack is empty", pos)
            return stack[-1]

        pos = self.stream.tell()
        for opcode, raw_arg, at in pickletools.genops(self.stream):
            arg: Any = raw_arg
            pos = at if at is not None else pos
            self.opcodes += 1
            if self.opcodes > MAX_OPCODES:
                raise Refused(f"more than {MAX_OPCODES} opcodes", pos)
            name = opcode.name
            if name in _CONSTANTS:
                stack.append(arg)
            elif name in _REFUSED_OPCODES:
                raise Refused(f"{name} uses {_REFUSED_OPCODES[name]}", pos)
            elif name == "PROTO":
                if not 0 <= arg <= 5:
                    raise Refused(f"unknown pickle protocol {arg}", pos)
                proto = arg
            elif name == "FRAME":
                if frame_end is not None and pos < frame_end:
                    raise Refused("a frame starts before the previous one ended", pos)
                frame_end = pos + 9 + arg
            elif name == "STOP":
                if not stack:
                    raise Refused("STOP with an empty stack", pos)
                return stack.pop()
            elif name == "NONE":
                stack.append(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "EMPTY_DICT":
                stack.append(_Dict())
            elif name == "EMPTY_SET":
                stack.append(_Set())
            elif name == "MARK":
                metastack.append(stack)
                stack = []
            elif name == "POP":
                if stack:
                    stack.pop()
                else:
                    pop_mark()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                stack.append(target())
            elif name == "TUPLE":
                items = pop_mark()  # before reading `stack`: pop_mark rebinds it
                stack.append(tuple(items))
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                size = int(name[-1])
                if len(stack) < size:
                    raise Refused(f"{name} with fewer than {size} values", pos)
                packed = tuple(stack[-size:])
                del stack[-size:]
                stack.append(packed)
            elif name == "LIST":
                items = pop_mark()
                stack.append(list(items))
            elif name == "DICT":
                items = pop_mark()
                if len(items) % 2:
                    raise Refused("DICT with an odd number of values", pos)
                stack.append(_Dict(list(zip(items[::2], items[1::2], strict=True))))
            elif name == "FROZENSET":
                items = pop_mark()
                stack.append(_Set(items, frozen=True))
            elif name in ("APPEND", "APPENDS"):
                if name == "APPEND":
                    if not stack:
                        raise Refused("APPEND with an empty stack", pos)
                    items = [stack.pop()]
                else:
                    items = pop_mark()
                into = target()
                if isinstance(into, list):
                    into.extend(items)
                elif not isinstance(into, _Object):
                    raise Refused(f"{name} into {_what(into)}", pos)
            elif name in ("SETITEM", "SETITEMS"):
                if name == "SETITEM":
                    if len(stack) < 2:
                        raise Refused("SETITEM with fewer than two values", pos)
                    items = stack[-2:]
                    del stack[-2:]
                else:
                    items = pop_mark()
                    if len(items) % 2:
                        raise Refused("SETITEMS with an odd number of values", pos)
                into = target()
                if isinstance(into, _Dict):
                    into.items.extend(zip(items[::2], items[1::2], strict=True))
                elif not isinstance(into, _Object):
                    raise Refused(f"{name} into {_what(into)}", pos)
            elif name == "ADDITEMS":
                items = pop_mark()
                into = target()
                if isinstance(into, _Set) and not into.frozen:
                    into.items.extend(items)
                elif not isinstance(into, _Object):
                    raise Refused(f"ADDITEMS into {_what(into)}", pos)
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                if arg not in memo:
                    raise Refused(f"{name} of memo slot {arg}, which was never set", pos)
                stack.append(memo[arg])
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                if arg < 0:
                    raise Refused(f"{name} to a negative memo slot", pos)
                memo[arg] = target()
            elif name == "MEMOIZE":
                memo[len(memo)] = target()
            elif name in ("GLOBAL", "INST"):
                module, attr = self._text_name(pos)
                found = self._global(module, attr, proto, pos)
                if name == "GLOBAL":
                    stack.append(found)
                else:
                    items = pop_mark()
                    stack.append(self._make(found, tuple(items), "call", pos))
            elif name == "STACK_GLOBAL":
                if len(stack) < 2:
                    raise Refused("STACK_GLOBAL with fewer than two values", pos)
                module, attr = stack[-2], stack[-1]
                del stack[-2:]
                if type(module) is not str or type(attr) is not str:
                    raise Refused(
                        "STACK_GLOBAL with a name that is not a plain string "
                        f"({_what(module)}, {_what(attr)}): it is computed while loading",
                        pos,
                    )
                stack.append(self._global(module, attr, proto, pos))
            elif name == "OBJ":
                items = pop_mark()
                if not items:
                    raise Refused("OBJ without a class", pos)
                stack.append(self._make(items[0], tuple(items[1:]), "call", pos))
            elif name in ("NEWOBJ", "NEWOBJ_EX"):
                size = 2 if name == "NEWOBJ" else 3
                if len(stack) < size:
                    raise Refused(f"{name} with fewer than {size} values", pos)
                cls, args = stack[-size], stack[-size + 1]
                del stack[-size:]
                if not isinstance(args, tuple):
                    raise Refused(f"{name} with arguments that are not a tuple", pos)
                stack.append(self._make(cls, args, "new", pos))
            elif name == "REDUCE":
                if len(stack) < 2:
                    raise Refused("REDUCE with fewer than two values", pos)
                func, args = stack[-2], stack[-1]
                del stack[-2:]
                if not isinstance(args, (tuple, list)):
                    raise Refused(f"REDUCE with arguments that are {_what(args)}", pos)
                stack.append(self._make(func, tuple(args), "call", pos))
            elif name == "BUILD":
                if len(stack) < 2:
                    raise Refused("BUILD with fewer than two values", pos)
                state = stack.pop()
                inst = stack[-1]
                if not isinstance(inst, _Object):
                    raise Refused(f"BUILD on {_what(inst)}", pos)
                inst.state = state
                if inst.kind == WRAPPER:
                    if not joblib:
                        raise Refused(
                            "joblib's array wrapper in a plain pickle: the bytes after it "
                            "are read as array data by joblib and as opcodes by pickle",
                            pos,
                        )
                    if frame_end is not None and self.stream.tell() < frame_end:
                        raise Refused("joblib array data inside a pickle frame", pos)
                    stack[-1] = self._array(inst, pos)
            else:  # pragma: no cover - every opcode of protocols 0-5 is handled above
                raise Refused(f"unknown opcode {name}", pos)
        raise Refused("the stream ends without STOP", pos)

    def _text_name(self, pos: int) -> tuple[str, str]:
        """The two lines after GLOBAL/INST exactly as the unpickler reads them."""
        first = self.data.index(b"\n", pos + 1)
        second = self.data.index(b"\n", first + 1)
        return (
            self.data[pos + 1 : first].decode("utf-8"),
            self.data[first + 1 : second].decode("utf-8"),
        )

    def _global(self, module: str, name: str, proto: int, pos: int) -> _Global:
        if proto < 3:
            module, name = python2_name(module, name)
        if (module, name) == WRAPPER and not self.joblib:
            raise Refused("joblib's array wrapper in a file that is not read as joblib", pos)
        self.refs.append(Reference(module, name, "ref", pos))
        return _Global(module, name, pos)

    def _make(self, func: Any, args: tuple[Any, ...], use: str, pos: int) -> _Object:
        if not isinstance(func, _Global):
            raise Refused(f"{use} of {_what(func)}, not of a named global", pos)
        self.refs.append(Reference(func.module, func.name, use, pos))
        kind = (func.module, func.name)
        if kind == WRAPPER and use == "call":
            raise Refused("joblib's array wrapper called with arguments", pos)
        if kind == ("copyreg", "_reconstructor") and len(args) > 1:
            cls, base = args[0], args[1]
            if not (isinstance(cls, _Global) and isinstance(base, _Global)):
                raise Refused("copyreg._reconstructor of something that is not a named class", pos)
            kind = (cls.module, cls.name)  # base.__new__(cls): an instance of cls
            self.refs.append(Reference(cls.module, cls.name, "new", pos))
            if (base.module, base.name) != ("builtins", "object"):
                self.refs.append(Reference(base.module, base.name, "call", pos))  # base.__init__
        return _Object(kind, args)

    def _array(self, wrapper: _Object, pos: int) -> _Object:
        """Skip (or walk) the data joblib reads after BUILD of its array wrapper."""
        state = wrapper.state
        if not isinstance(state, _Dict):
            raise Refused("joblib's array wrapper built from something other than a dict", pos)
        for key, value in state.items:
            if type(key) is not str:
                raise Refused("joblib's array wrapper with a key that is not a string", pos)
            wrapper.attrs[key] = value
        attrs = wrapper.attrs
        shape, order = attrs.get("shape"), attrs.get("order")
        if not (
            isinstance(shape, tuple) and all(type(n) is int and n >= 0 for n in shape)
        ) or order not in ("C", "F"):
            raise Refused("joblib's array wrapper without a valid shape and order", pos)
        itemsize, hasobject = _dtype_layout(attrs.get("dtype"), pos)
        if hasobject:
            self.one_stream(joblib=False)  # a nested stream; joblib reads it with pickle
            return _Object(("numpy", "ndarray"))
        if attrs.get("numpy_array_alignment_bytes") is not None:
            padding = self.stream.read(1)
            if not padding:
                raise Refused("joblib array data is missing", pos)
            self.stream.seek(padding[0], io.SEEK_CUR)
        count = 1
        for n in shape:
            count *= n
        end = self.stream.tell() + count * itemsize
        if end > len(self.data):
            raise Refused("joblib array data runs past the end of the file", pos)
        self.stream.seek(end)
        return _Object(("numpy", "ndarray"))


def _dtype_layout(dtype: Any, pos: int) -> tuple[int, bool]:
    """(item size, holds Python objects) of a symbolic numpy dtype, as NumPy would set it."""
    real = _real_dtype(dtype, pos, 0)
    return real.itemsize, bool(real.hasobject)


def _real_dtype(dtype: Any, pos: int, depth: int) -> Any:
    """The NumPy dtype a symbolic ``numpy.dtype(code, align, copy)`` with its BUILD state
    stands for, rebuilt from validated pieces only (type codes, field names, offsets, sizes);
    Refused when the state is not exactly what NumPy writes for that dtype."""
    import numpy as np

    if not (isinstance(dtype, _Object) and dtype.kind == ("numpy", "dtype") and dtype.args):
        raise Refused("joblib's array wrapper without a plain numpy dtype", pos)
    code = dtype.args[0]
    if type(code) is not str or not _DTYPE_CODE.fullmatch(code):
        raise Refused(f"a numpy dtype code mlgate does not read statically: {code!r}", pos)
    if any(type(flag) is not bool for flag in dtype.args[1:]) or len(dtype.args) > 3:
        raise Refused("a numpy dtype with unexpected arguments", pos)
    reference = np.dtype(code)  # a type code of the form checked above: no object, no import
    state = dtype.state
    if state is None:
        return reference
    if not isinstance(state, tuple) or len(state) not in (8, 9):
        raise Refused("a numpy dtype with an unexpected state", pos)
    version, order, subarray, names, fields, elsize, _, flags = state[:8]
    if version not in (3, 4) or order not in ("<", ">", "|", "=") or subarray is not None:
        raise Refused("a numpy dtype with a sub-array or an unknown byte order", pos)
    if names is None and fields is None:
        real = reference
        if elsize != (reference.itemsize if reference.kind in "SUV" else -1):
            raise Refused("a numpy dtype whose size does not match its type code", pos)
    else:
        real = _structured(code, names, fields, elsize, pos, depth)
    # NumPy 2.5 keeps flags above the first byte in memory that its pickles leave out.
    if flags not in (real.flags, real.flags & 0xFF):
        raise Refused("a numpy dtype whose flags do not match its fields", pos)
    return real


def _structured(code: str, names: Any, fields: Any, elsize: Any, pos: int, depth: int) -> Any:
    import numpy as np

    if depth > 4 or not code.startswith("V") or type(elsize) is not int:
        raise Refused("a nested or malformed structured numpy dtype", pos)
    if not (isinstance(names, tuple) and all(type(n) is str for n in names)):
        raise Refused("a structured numpy dtype with names that are not strings", pos)
    if not isinstance(fields, _Dict):
        raise Refused("a structured numpy dtype without a field table", pos)
    table = dict(fields.items)  # keys are the (checked) strings of `names`
    if len(table) != len(fields.items) or set(table) != set(names):
        raise Refused("a structured numpy dtype whose fields do not match its names", pos)
    formats, offsets = [], []
    for name in names:
        spec = table[name]
        if not (isinstance(spec, tuple) and len(spec) == 2 and type(spec[1]) is int):
            raise Refused("a structured numpy dtype field with a title or no offset", pos)
        formats.append(_real_dtype(spec[0], pos, depth + 1))
        offsets.append(spec[1])
    layout = {"names": list(names), "formats": formats, "offsets": offsets, "itemsize": elsize}
    return np.dtype(layout)  # type: ignore[call-overload]


def _what(value: Any) -> str:
    if isinstance(value, _Global):
        return f"the global {value.module}.{value.name} itself"
    if isinstance(value, _Object):
        return "an object" if value.kind is None else f"an instance of {'.'.join(value.kind)}"
    return {
        list: "a list",
        tuple: "a tuple",
        _Dict: "a dict",
        _Set: "a set",
        str: "a string",
        bytes: "bytes",
    }.get(type(value), type(value).__name__)
