"""skops files: the zip checked before skops opens it, every name its schema uses judged
against the exact allow-list, then skops's own audit with exactly those names trusted.

skops builds nothing while it audits, but its defaults trust more than mlgate does, and it
calls what some nodes name: ``ConstructorFromReduceNode`` calls its class with arguments from
the file (``numpy.testing._private.utils.runstring`` would be ``exec``), ``ObjectNode``
creates its class and sets its state, ``MethodNode`` reads an attribute of an object,
``FunctionNode``/``TypeNode`` import a name. So the schema is walked here first: every node's
loader must be one mlgate knows, and every type and callable a node names (with how skops uses
it) must be on the allow-list by full name, or in ``model.trusted_types``: ``mlgate scan``'s
judgement, which imports nothing. Loading then also has ``skops.io.get_untrusted_types``
report only names on the same list (importing skops and scikit-learn), and passes exactly
those as ``trusted=``. skops imports each module by the name the file gives, so loading a file
that uses a listed alias (``_loss``, scikit-learn 1.7's name for ``sklearn._loss._loss``) also
needs that real module to have registered the alias; otherwise Python would look the bare name
up on ``sys.path``.

The archive itself: at most ``MAX_MEMBERS`` members whose declared sizes add up to at most
``MAX_UNPACKED`` (a zip bomb is refused from its directory, before anything is inflated),
member names that stay inside the archive (no absolute paths, ``..``, backslashes or drive
letters: zip-slip), no duplicate names, and a ``schema.json`` no larger than ``MAX_SCHEMA``.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import zipfile
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from mlgate.safety import allowlist
from mlgate.safety.picklewalk import Reference, Refused

MAX_MEMBERS = 100_000
MAX_UNPACKED = 2 << 30  # declared uncompressed bytes of all members
MAX_SCHEMA = 64 << 20
MAGIC = b"PK\x03\x04"
_CALL = "call"
# Loaders whose node calls its (module, class) with arguments or to build a container.
_CALLED = frozenset(
    {
        "DictNode", "DefaultDictNode", "ListNode", "SetNode", "TupleNode", "BytesNode",
        "BytearrayNode", "SliceNode", "ConstructorFromReduceNode", "OperatorFuncNode",
        "PartialNode", "NdArrayNode", "MaskedArrayNode", "DTypeNode", "RandomStateNode",
        "RandomGeneratorNode", "SparseMatrixNode", "TreeNode", "LossNode",
    }
)  # fmt: skip
_REFERENCED = frozenset({"FunctionNode", "TypeNode"})
_NOTHING = frozenset({"JsonNode", "CachedNode"})  # json.loads / an earlier node


def check_archive(data: bytes) -> dict[str, Any]:
    """The parsed schema of a skops file whose archive passes the checks; Refused otherwise."""
    if not data.startswith(MAGIC):
        raise Refused("not a zip archive (a skops file is one)")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refused(f"a damaged zip archive ({exc})") from None
    if len(members) > MAX_MEMBERS:
        raise Refused(f"the archive has more than {MAX_MEMBERS} members")
    names: set[str] = set()
    total = 0
    for member in members:
        name = member.filename
        parts = name.split("/")
        if (
            name.startswith("/")
            or "\\" in name
            or "\0" in name
            or ".." in parts
            or (len(name) > 1 and name[1] == ":")
        ):
            raise Refused(f"the archive member {name!r} points outside the archive (zip-slip)")
        if name in names:
            raise Refused(f"the archive holds {name!r} twice")
        names.add(name)
        total += member.file_size
        if total > MAX_UNPACKED:
            raise Refused(
                f"the archive unpacks to more than {MAX_UNPACKED} bytes (a zip bomb, or a "
                "model too large to check)"
            )
    if "schema.json" not in names:
        raise Refused("the archive has no schema.json (not a skops file)")
    if archive.getinfo("schema.json").file_size > MAX_SCHEMA:
        raise Refused(f"schema.json is larger than {MAX_SCHEMA} bytes")
    try:
        schema = json.loads(archive.read("schema.json"))
    except (RecursionError, ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise Refused(f"schema.json cannot be read ({type(exc).__name__})") from None
    if not isinstance(schema, dict):
        raise Refused("schema.json is not an object")
    return schema


def readable(data: bytes) -> bool:
    """Whether ``data`` is a zip archive at all (a damaged file is a configuration problem)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return data.startswith(MAGIC)


def schema_references(data: bytes) -> tuple[Reference, ...]:
    """Every (module, name) the schema's nodes use and how; Refused for an unknown loader or
    a node mlgate cannot read."""
    schema = check_archive(data)
    refs: list[Reference] = []
    pending: list[Any] = [schema]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        if "__loader__" in item:
            refs.extend(_node_references(item, len(refs)))
        pending.extend(item.values())
    return tuple(refs)


def _node_references(node: dict[str, Any], index: int) -> list[Reference]:
    loader = node["__loader__"]
    if type(loader) is not str:
        raise Refused("a skops node whose loader is not a string")
    if loader in _NOTHING:
        return []
    module, cls = node.get("__module__"), node.get("__class__")
    if type(module) is not str or type(cls) is not str:
        raise Refused("a skops node without a plain module and class")
    if loader in _CALLED:
        refs = [Reference(module, cls, _CALL, index)]
        if loader == "RandomGeneratorNode":
            refs.append(Reference("numpy.random", _bit_generator(node), _CALL, index))
        return refs
    if loader in _REFERENCED:
        return [Reference(module, cls, "ref", index)]
    if loader == "ObjectNode":
        return [Reference(module, cls, "new", index)]
    if loader == "MethodNode":
        content = node.get("content")
        func = content.get("func") if isinstance(content, dict) else None
        if type(func) is not str or not func.isidentifier():
            raise Refused("a skops method node without a plain method name")
        return [Reference(module, f"{cls}.{func}", "ref", index)]
    raise Refused(f"a skops node with a loader mlgate does not know: {loader!r}")


def _bit_generator(node: dict[str, Any]) -> str:
    try:
        name = json.loads(node["content"]["bit_generator"]["content"]["bit_generator"]["content"])
    except (KeyError, TypeError, ValueError):
        raise Refused("a skops random generator without a bit generator name") from None
    if type(name) is not str:
        raise Refused("a skops random generator without a bit generator name")
    return name


def static_judgement(
    data: bytes, trusted_types: Sequence[str] = ()
) -> tuple[list[str], tuple[Reference, ...]]:
    """(reasons the file must not be loaded, the names its schema uses): the archive checks
    and every node's names against the exact allow-list. Nothing is imported: what ``mlgate
    scan`` judges a skops file by."""
    allowed = allowlist.for_model(trusted_types)
    try:
        refs = schema_references(data)
    except Refused as exc:
        return [f"cannot be judged: {exc.reason}"], ()
    problems: list[str] = []
    for ref in refs:
        reason = allowed.refusal(ref.module, ref.name, ref.use)
        if reason is not None and reason not in problems:
            problems.append(reason)
    return problems, refs


def judge(data: bytes, trusted_types: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """(reasons the file must not be loaded, the names skops must be told to trust): the
    static judgement, then skops's own audit, which must report only names on the same list.
    Loading runs both, every time, before skops builds anything."""
    problems, refs = static_judgement(data, trusted_types)
    allowed = allowlist.for_model(trusted_types)
    for module in sorted({ref.module for ref in refs if ref.module in allowed.aliases}):
        reason = _alias_problem(module, allowed.real_module(module))
        if reason is not None:
            problems.append(reason)
    if problems:
        return problems, []
    sio = skops_io()
    try:
        untrusted = list(sio.get_untrusted_types(data=data))
    except Exception as exc:  # skops raises many types on corrupt files
        return [f"not a valid skops file ({type(exc).__name__}: {exc})"], []
    dotted = allowed.dotted()
    off_list = [t for t in untrusted if t not in dotted]
    if off_list:
        return [f"{t} is not on mlgate's allow-list" for t in off_list], []
    return [], untrusted


def _alias_problem(alias: str, real: str) -> str | None:
    """Why skops must not be handed ``alias``: the real module (imported by its own name) is
    not what ``alias`` names in this interpreter."""
    module = importlib.import_module(real)
    if sys.modules.get(alias) is module:
        return None
    return (
        f"{alias} is the name an older release gave {real}; this version does not register it, "
        f"so skops would look {alias} up on sys.path: save the model again with this version"
    )


def skops_io() -> ModuleType:
    """``skops.io``, imported without the default trust list skops builds at import time.

    That list (every scikit-learn estimator) comes from ``sklearn.utils.all_estimators()``,
    which imports every scikit-learn module, pytest included (~1 s of a PR check). mlgate never
    relies on it: every name a file uses must be on mlgate's exact allow-list before skops sees
    the file, and skops is then told to trust exactly the names it reports. Without the list
    skops reports more names as untrusted, never fewer, so this only makes skops stricter.
    """
    loaded: ModuleType | None = sys.modules.get("skops.io")
    if loaded is not None:
        return loaded
    import sklearn.utils

    everything = sklearn.utils.all_estimators
    sklearn.utils.all_estimators = _no_estimators
    try:
        import skops.io as sio
    finally:
        sklearn.utils.all_estimators = everything
    module: ModuleType = sio
    return module


def _no_estimators(*_: object, **__: object) -> list[tuple[str, type]]:
    return []
