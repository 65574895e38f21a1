# ruff: noqa: FBT003, E501, PERF401 - a table of byte strings reads best one sample a line
"""A hostile corpus of model files, generated as code: each payload, if it ever ran, would only
create a marker file (or folder) at the path it is given.

Written after reading the public corpora and advisories (picklescan's and modelscan's test
samples, fickling's, the 2025 scanner-bypass advisories) and aimed at mlgate's own former
allow-lists: every stdlib runner a deny-list misses, dotted attribute chains through modules
the old prefix rules trusted, names computed while loading, memo and frame tricks, payloads
hidden after joblib's raw array bytes, in object arrays and in compressed containers, skops
nodes that call, create or reference what they should not, and broken or oversized archives.

``corpus(marker_dir)`` returns ``Sample``s; their bytes are built by hand (opcodes written
out, no object of the target is pickled), except the joblib ones, which joblib writes around
a ``Reduce`` placeholder.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUFFIXES = (".pkl", ".bin", ".pt", ".pickle")


@dataclass(frozen=True)
class Sample:
    name: str
    source: str  # what it re-creates: "picklescan", "modelscan", "fickling", "advisory", "mlgate"
    kind: str  # "pickle", "joblib", "skops"
    fmt: str  # the format it claims to be (model.format)
    suffix: str
    data: bytes
    live: bool = False  # known to create the marker when loaded by pickle.loads / skops


# -- opcode writers ------------------------------------------------------------------------


def _s0(text: str) -> bytes:
    return b"S" + repr(text).encode() + b"\n"


def _u(text: str) -> bytes:
    raw = text.encode()
    if len(raw) < 256:
        return b"\x8c" + bytes([len(raw)]) + raw
    return b"X" + struct.pack("<I", len(raw)) + raw


def _arg(value: Any, binary: bool) -> bytes:
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"\x88" if value else b"\x89"
    if isinstance(value, int):
        return b"J" + struct.pack("<i", value) if binary else f"I{value}\n".encode()
    if isinstance(value, bytes):
        return (
            b"C" + bytes([len(value)]) + value
            if binary
            else b"S" + repr(value).encode()[1:] + b"\n"
        )
    if isinstance(value, dict):
        return b"}" if binary else b"(d"
    if isinstance(value, (list, tuple)):
        inner = b"".join(_arg(v, binary) for v in value)
        return b"(" + inner + (b"l" if isinstance(value, list) else b"t")
    raw: bytes = value.encode()  # the last kind: a str
    if binary:
        return b"X" + struct.pack("<I", len(raw)) + raw
    return _s0(value)


def _args(args: tuple[Any, ...], binary: bool) -> bytes:
    return b"(" + b"".join(_arg(a, binary) for a in args) + b"t"


def global_call(module: str, name: str, args: tuple[Any, ...], protocol: int) -> bytes:
    """module.name(*args): GLOBAL for protocols 0-3, STACK_GLOBAL with memo for 4-5."""
    binary = protocol >= 1
    head = b"" if protocol < 2 else b"\x80" + bytes([protocol])
    if protocol < 4:
        body = f"c{module}\n{name}\n".encode() + _args(args, binary) + b"R."
        return head + body
    body = _u(module) + b"\x94" + _u(name) + b"\x94\x93\x94" + _args(args, True) + b"R\x94."
    if protocol == 5:
        return head + b"\x95" + struct.pack("<Q", len(body)) + body
    return head + body


def inst_call(module: str, name: str, args: tuple[Any, ...]) -> bytes:
    return b"(" + b"".join(_arg(a, False) for a in args) + f"i{module}\n{name}\n.".encode()


def obj_call(module: str, name: str, args: tuple[Any, ...]) -> bytes:
    return (
        b"\x80\x02("
        + f"c{module}\n{name}\n".encode()
        + b"".join(_arg(a, True) for a in args)
        + b"o."
    )


# -- the targets: each call creates `m` (a marker path) if it runs --------------------------


def targets(m: Path, inner: Path) -> list[tuple[str, str, str, tuple[Any, ...]]]:
    sh = f"touch {m}"
    code = f"open({str(m)!r}, 'w').close()"
    return [
        ("picklescan", "posix", "system", (sh,)),
        ("picklescan", "os", "system", (sh,)),
        ("picklescan", "builtins", "eval", (code,)),
        ("picklescan", "builtins", "exec", (code,)),
        ("picklescan", "subprocess", "getoutput", (sh,)),
        ("picklescan", "subprocess", "getstatusoutput", (sh,)),
        ("modelscan", "builtins", "open", (str(m), "w")),
        ("modelscan", "runpy", "_run_code", (code, {})),
        ("modelscan", "pty", "spawn", (["sh", "-c", sh],)),
        ("fickling", "pickle", "loads", (inner.read_bytes(),)),
        ("advisory", "pip", "main", (["help", "--log", str(m)],)),
        ("advisory", "cProfile", "run", (code,)),
        ("advisory", "profile", "run", (code,)),
        ("advisory", "timeit", "timeit", (code, "pass", None, 1)),
        ("advisory", "pdb", "run", (code,)),
        ("advisory", "pydoc", "pipepager", ("x", sh)),
        ("advisory", "doctest", "debug_script", (code,)),
        ("advisory", "multiprocessing.util", "spawnv_passfds", ("/bin/sh", ["sh", "-c", sh], ())),
        ("advisory", "uuid", "_get_command_stdout", ("touch", str(m))),
        ("advisory", "imaplib", "IMAP4_stream", (sh,)),
        ("advisory", "venv", "create", (str(m),)),
        ("advisory", "io", "FileIO", (str(m), "w")),
        ("advisory", "_io", "FileIO", (str(m), "w")),
        ("advisory", "logging", "FileHandler", (str(m),)),
        ("mlgate", "numpy.testing._private.utils", "runstring", (code, {})),
        ("mlgate", "numpy", "memmap", (str(m), "uint8", "w+", 0, (4,))),
        ("mlgate", "numpy", "savetxt", (str(m), [1])),
        ("mlgate", "numpy", "load", (str(inner), None, True)),
        ("mlgate", "scipy.io", "FortranFile", (str(m), "w")),
        ("mlgate", "joblib", "dump", (1, str(m))),
        ("mlgate", "joblib.numpy_pickle", "load", (str(inner),)),
        ("mlgate", "sklearn.utils._testing", "assert_run_python_script_without_output", (code,)),
    ]


# Dotted names through modules the old prefix rules trusted (protocol 4 resolves chains).
CHAINS = (
    ("numpy.random.mtrand", "np.f2py.subprocess.getoutput"),
    ("numpy.random._pickle", "np.os.system"),
    ("sklearn.base", "np.f2py.os.system"),
    ("scipy.sparse", "np.f2py.subprocess.getoutput"),
    ("pathlib", "os.system"),
    ("sklearn.utils", "np.testing._private.utils.runstring"),
)


def _pickles(m: Path, inner: Path) -> Iterator[Sample]:
    count = 0
    for source, module, name, args in targets(m, inner):
        for protocol in (0, 2, 4, 5):
            suffix = SUFFIXES[count % len(SUFFIXES)]
            count += 1
            data = global_call(module, name, args, protocol)
            live = module in ("posix", "os", "builtins", "subprocess") and name != "open"
            yield Sample(
                f"{module}.{name} p{protocol}", source, "pickle", "pickle", suffix, data, live
            )
    for module, name in CHAINS:
        yield Sample(f"chain {module}:{name}", "mlgate", "pickle", "pickle", ".pkl",
                     global_call(module, name, (f"touch {m}",), 4), live=True)  # fmt: skip
    code = f"open({str(m)!r}, 'w').close()"
    yield Sample("__builtin__.eval via INST", "advisory", "pickle", "pickle", ".pkl",
                 inst_call("__builtin__", "eval", (code,)), live=True)  # fmt: skip
    yield Sample("__builtin__.exec via INST", "advisory", "pickle", "pickle", ".bin",
                 inst_call("__builtin__", "exec", (code,)), live=True)  # fmt: skip
    yield Sample("posix.system via INST", "picklescan", "pickle", "pickle", ".pkl",
                 inst_call("posix", "system", (f"touch {m}",)), live=True)  # fmt: skip
    yield Sample("builtins.eval via OBJ", "fickling", "pickle", "pickle", ".pkl",
                 obj_call("builtins", "eval", (code,)), live=True)  # fmt: skip
    yield from _tricks(m, code)


def _tricks(m: Path, code: str) -> Iterator[Sample]:
    sh = f"touch {m}"

    def sample(name: str, data: bytes, src: str = "mlgate", live: bool = True) -> Sample:
        return Sample(name, src, "pickle", "pickle", ".pkl", data, live)

    # operator.attrgetter / methodcaller reaching os.system from posixpath's `os`.
    yield sample(
        "operator.attrgetter to os.system",
        b"\x80\x02coperator\nattrgetter\nX\x09\x00\x00\x00os.system\x85R"
        b"cos\npath\n\x85R" + _u(sh) + b"\x85R.",
        "advisory",
    )
    yield sample(
        "operator.methodcaller system on posixpath.os",
        b"\x80\x04coperator\nmethodcaller\n" + _u("system") + _u(sh) + b"\x86R"
        b"cposixpath\nos\n\x85R.",
        "advisory",
    )
    # The module name computed by a call on the list (_codecs.encode): only a run knows it.
    yield sample(
        "STACK_GLOBAL with a computed module",
        b"\x80\x04c_codecs\nencode\n" + _u("posix") + _u("latin1") + b"\x86R"
        b"c_codecs\ndecode\n\x93" + _u("system") + b"\x93" + _u(sh) + b"\x85R.",
    )
    # Memo tricks: strings put in the memo early, fetched later, duplicated.
    yield sample(
        "memoised module and name, fetched by BINGET",
        b"\x80\x04" + _u("posix") + b"q\x05" + _u("system") + b"q\x06" + _u("junk") + b"0"
        b"h\x05h\x06\x93" + _u(sh) + b"\x85R.",
    )
    yield sample(
        "LONG_BINPUT/LONG_BINGET memo slots",
        b"\x80\x04" + _u("subprocess") + b"r\x00\x01\x00\x00" + _u("getoutput")
        + b"r\x01\x01\x00\x00j\x00\x01\x00\x00j\x01\x01\x00\x00\x93" + _u(sh) + b"\x85R.",
    )  # fmt: skip
    yield sample(
        "DUP of the callable",
        b"\x80\x04" + _u("posix") + _u("system") + b"\x93" + b"2" + _u(sh) + b"\x85R0"
        + _u(sh) + b"\x85R.",
    )  # fmt: skip
    yield sample("text PUT/GET memo", b"cposix\nsystem\np0\n0g0\n(S'" + sh.encode() + b"'\ntR.")
    # Payloads nested in containers, in BUILD state and behind benign streams.
    call = global_call("posix", "system", (sh,), 2)[2:-1]
    yield sample("payload in a list", b"\x80\x02]" + call + b"a.")
    yield sample("payload as a dict value", b"\x80\x02}X\x01\x00\x00\x00k" + call + b"s.")
    yield sample("payload in a tuple in a frozenset", b"\x80\x04(" + call + b"\x91.")
    yield sample(
        "payload in the BUILD state of a real estimator",
        b"\x80\x02csklearn.linear_model._logistic\nLogisticRegression\n)\x81}X\x01\x00\x00\x00C"
        + call + b"sb.",
    )  # fmt: skip
    yield sample(
        "BUILD on a global (its __setstate__ called with the state)",
        b"\x80\x02cbuiltins\nexec\n" + _u(code) + b"b.",
    )
    yield sample(
        "__setstate__ of a callable built by NEWOBJ",
        b"\x80\x02csubprocess\nPopen\n)\x81}b.",
        live=False,
    )
    yield sample(
        "NEWOBJ_EX of subprocess.Popen",
        b"\x80\x04" + _u("subprocess") + _u("Popen") + b"\x93(" + _u("sh") + _u("-c")
        + _u(sh) + b"l\x85}\x92.",
        live=False,
    )  # fmt: skip
    benign = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01\x85\x94."
    yield sample(
        "second of two concatenated streams", benign + global_call("posix", "system", (sh,), 4)
    )
    yield sample(
        "nested stream through pickle.loads",
        global_call("pickle", "loads", (global_call("posix", "system", (sh,), 2),), 2),
        "fickling",
    )
    yield sample("persistent id (torch-style)", b"\x80\x02X\x01\x00\x00\x00xQ.", live=False)
    yield sample("copyreg extension code", b"\x80\x02\x82\x01.", live=False)
    yield sample("out-of-band buffer", b"\x80\x05\x97.", live=False)
    yield sample(
        "calling a referenced ufunc with a file argument",
        b"\x80\x02cnumpy\nlog1p\nX\x01\x00\x00\x00x\x85R.",
        live=False,
    )
    yield sample(
        "frame hiding opcodes after a joblib wrapper",
        b"\x80\x04\x95\x40\x00\x00\x00\x00\x00\x00\x00cjoblib.numpy_pickle\nNumpyArrayWrapper\n)"
        b"\x81}b" + call + b".",
        live=False,
    )


# -- joblib ---------------------------------------------------------------------------------


class Reduce:
    """Pickles as ``func(*args)``."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple[Any, ...]:
        return self.func, self.args


def _joblib(m: Path) -> Iterator[Sample]:
    import os

    import joblib
    import numpy as np

    def dump(value: Any, compress: Any = 0) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(value, buffer, compress=compress)
        return buffer.getvalue()

    touch = Reduce(os.system, f"touch {m}")
    code = Reduce(eval, f"open({str(m)!r}, 'w').close()")
    cases: list[tuple[str, Any, Any]] = [
        ("after raw array bytes", [np.arange(4096.0), touch], 0),
        ("after several arrays", {"a": np.zeros((50, 3)), "b": np.ones(7, ">i4"), "c": code}, 0),
        ("in an object array", np.array([touch], dtype=object), 0),
        ("in an object array beside numbers", [np.arange(3.0), np.array([1, code], object)], 0),
    ]
    for method in ("zlib", "gzip", "bz2", "xz", "lzma"):
        cases.append((f"{method}-compressed", [np.arange(100.0), touch], (method, 3)))
    cases.append(("compressed object array", np.array([code], dtype=object), 3))
    for i, (name, value, compress) in enumerate(cases):
        suffix = (".joblib", ".pkl", ".bin")[i % 3]
        yield Sample(
            f"joblib {name}", "mlgate", "joblib", "joblib", suffix, dump(value, compress), True
        )
    raw = dump([np.arange(8.0)])
    yield Sample("joblib truncated inside array data", "mlgate", "joblib", "joblib", ".joblib",
                 raw[: len(raw) - 20] + global_call("posix", "system", (f"touch {m}",), 2))  # fmt: skip
    yield Sample("joblib lz4 container", "mlgate", "joblib", "joblib", ".joblib",
                 b"\x04\x22\x4d\x18" + dump(touch))  # fmt: skip


# -- skops ----------------------------------------------------------------------------------


def _json_node(value: Any) -> dict[str, Any]:
    return {"__class__": "str", "__module__": "builtins", "__loader__": "JsonNode",
            "content": json.dumps(value), "is_json": True}  # fmt: skip


def _tuple_node(values: list[Any]) -> dict[str, Any]:
    return {"__class__": "tuple", "__module__": "builtins", "__loader__": "TupleNode",
            "content": [_json_node(v) for v in values]}  # fmt: skip


def _skops_archive(
    pipeline: bytes,
    node: dict[str, Any] | None,
    extra: dict[str, bytes],
    schema: bytes | None = None,
) -> bytes:
    raw = schema
    source = zipfile.ZipFile(io.BytesIO(pipeline))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "schema.json" and node is not None:
                parsed = json.loads(content)
                parsed["content"]["content"]["extra"] = node  # an extra attribute of the Pipeline
                content = json.dumps(parsed).encode()
            if info.filename == "schema.json" and raw is not None:
                content = raw
            target.writestr(info.filename, content)
        for name, content in extra.items():
            target.writestr(name, content)
    return out.getvalue()


def real_pipeline_skops() -> bytes:
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).random((40, 3))
    return bytes(
        sio.dumps(make_pipeline(StandardScaler(), LogisticRegression()).fit(x, np.arange(40) % 2))
    )


def _skops(m: Path) -> Iterator[Sample]:
    pipeline = real_pipeline_skops()
    code = f"open({str(m)!r}, 'w').close()"
    sh = f"touch {m}"

    def reduce(module: str, name: str, args: list[Any]) -> dict[str, Any]:
        return {"__class__": name, "__module__": module,
                "__loader__": "ConstructorFromReduceNode", "content": _tuple_node(args)}  # fmt: skip

    nodes: list[tuple[str, dict[str, Any], bool]] = [
        (
            "reduce numpy runstring",
            reduce("numpy.testing._private.utils", "runstring", [code, {}]),
            True,
        ),
        (
            "reduce sklearn assert_run_python_script",
            reduce("sklearn.utils._testing", "assert_run_python_script_without_output", [code]),
            True,
        ),
        ("reduce builtins.exec", reduce("builtins", "exec", [code]), True),
        ("reduce builtins.eval", reduce("builtins", "eval", [code]), True),
        ("reduce posix.system", reduce("posix", "system", [sh]), True),
        ("reduce subprocess.getoutput", reduce("subprocess", "getoutput", [sh]), True),
        ("reduce numpy.savetxt", reduce("numpy", "savetxt", [str(m), [1]]), True),
        ("reduce io.FileIO", reduce("io", "FileIO", [str(m), "w"]), True),
        ("reduce look-alike sklearn_utils", reduce("sklearn_utils", "run", [code]), False),
        ("reduce look-alike numpyx", reduce("numpyx.testing", "runstring", [code]), False),
        ("reduce scipy.io FortranFile", reduce("scipy.io", "FortranFile", [str(m), "w"]), True),
        (
            "object subprocess.Popen",
            {"__class__": "Popen", "__module__": "subprocess", "__loader__": "ObjectNode"},
            False,
        ),
        (
            "function os.system",
            {"__class__": "system", "__module__": "posix", "__loader__": "FunctionNode"},
            False,
        ),
        (
            "type builtins.eval",
            {"__class__": "eval", "__module__": "builtins", "__loader__": "TypeNode"},
            False,
        ),
        (
            "operator attrgetter",
            {
                "__class__": "attrgetter",
                "__module__": "operator",
                "__loader__": "OperatorFuncNode",
                "attrs": _tuple_node(["system"]),
            },
            False,
        ),
        (
            "method __reduce_ex__ of a scaler",
            {
                "__class__": "StandardScaler",
                "__module__": "sklearn.preprocessing._data",
                "__loader__": "MethodNode",
                "content": {
                    "func": "__reduce_ex__",
                    "obj": {
                        "__class__": "StandardScaler",
                        "__module__": "sklearn.preprocessing._data",
                        "__loader__": "ObjectNode",
                    },
                },
            },
            False,
        ),
        (
            "partial of os.system",
            {
                "__class__": "partial",
                "__module__": "functools",
                "__loader__": "PartialNode",
                "content": {
                    "func": {
                        "__class__": "system",
                        "__module__": "posix",
                        "__loader__": "FunctionNode",
                    },
                    "args": _tuple_node([sh]),
                    "kwds": {
                        "__class__": "dict",
                        "__module__": "builtins",
                        "__loader__": "DictNode",
                        "content": {},
                        "key_types": _tuple_node([]),
                    },
                    "namespace": _json_node(None),
                },
            },
            False,
        ),
        (
            "unknown loader",
            {
                "__class__": "x",
                "__module__": "builtins",
                "__loader__": "PickleNode",
                "file": "x.pkl",
            },
            False,
        ),
    ]
    for name, node, live in nodes:
        yield Sample(f"skops {name}", "mlgate", "skops", "skops", ".skops",
                     _skops_archive(pipeline, node, {}), live)  # fmt: skip
    for member in ("../evil.py", "/tmp/evil.py", "a/../../evil.py", "..\\evil.py"):
        yield Sample(f"skops zip-slip {member}", "mlgate", "skops", "skops", ".skops",
                     _skops_archive(pipeline, None, {member: b"import os"}))  # fmt: skip
    yield Sample(
        "skops bomb (declared size)", "mlgate", "skops", "skops", ".skops", _bomb(pipeline)
    )
    deep = b'{"__loader__": "ListNode", "content": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    yield Sample("skops deeply nested schema", "mlgate", "skops", "skops", ".skops",
                 _skops_archive(pipeline, None, {}, schema=deep))  # fmt: skip


def _bomb(pipeline: bytes) -> bytes:
    """A skops archive whose directory declares a 3 GiB member (the bound is checked from the
    directory, so the bytes behind it need not be there: a real bomb declares the same)."""
    out = io.BytesIO()
    source = zipfile.ZipFile(io.BytesIO(pipeline))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.writestr("zeros.bin", bytes(1 << 16))
    data = bytearray(out.getvalue())
    declared = struct.pack("<I", 3 << 30)
    name = b"zeros.bin"
    local = data.rindex(b"PK\x03\x04" + bytes(0), 0, data.rindex(name))
    data[local + 22 : local + 26] = declared
    central = data.rindex(b"PK\x01\x02", 0, data.rindex(name))
    data[central + 24 : central + 28] = declared
    return bytes(data)


def corpus(marker: Path) -> list[Sample]:
    """Every sample, aimed at ``marker`` (a path that must never appear)."""
    inner = marker.parent / "inner.pkl"
    inner.write_bytes(global_call("posix", "system", (f"touch {marker}",), 2))
    return [*_pickles(marker, inner), *_joblib(marker), *_skops(marker)]
