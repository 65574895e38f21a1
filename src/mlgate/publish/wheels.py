"""A wheel of the running mlgate, for the image: rebuilt from source or repacked as installed.

Both ways give byte-identical wheels for identical code (fixed timestamps, sorted entries), so
docker's layer cache holds across builds when only the model changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from mlgate import __version__, proc
from mlgate.errors import ExternalError

_EPOCH = (1980, 1, 1, 0, 0, 0)
_SOURCE_PARTS = ("src", "pyproject.toml", "README.md")


def mlgate_wheel(cache: Path, progress: Callable[[str], None]) -> Path:
    """The path of ``mlgate-<version>-py3-none-any.whl`` matching the running code."""
    dist = metadata.distribution("mlgate")
    source = _source_checkout(dist)
    if source is not None:
        key = _tree_digest(source)
        out = cache / key
        found = sorted(out.glob("mlgate-*.whl")) if out.is_dir() else []
        if found:
            return found[0]
        progress(f"wheelhouse: building mlgate {__version__} from {source}")
        partial = cache / (key + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        env = dict(os.environ, SOURCE_DATE_EPOCH="315532800")
        proc.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(partial),
             str(source)],
            env=env,
            timeout=900,
            what="pip wheel mlgate",
        )  # fmt: skip
        shutil.rmtree(out, ignore_errors=True)
        partial.rename(out)
        return sorted(out.glob("mlgate-*.whl"))[0]
    return repack(dist, cache)


def _source_checkout(dist: metadata.Distribution) -> Path | None:
    """The project folder of an editable or local-folder install, else None."""
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    info = json.loads(text)
    url = str(info.get("url", ""))
    if not url.startswith("file://") or "dir_info" not in info:
        return None
    folder = Path(url.removeprefix("file://"))
    return folder if (folder / "pyproject.toml").is_file() else None


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for part in _SOURCE_PARTS:
        base = root / part
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:20]


def repack(dist: metadata.Distribution, cache: Path) -> Path:
    """Rebuild the wheel of an installed (non-editable) distribution from its RECORD."""
    files = [f for f in dist.files or [] if not str(f).startswith("..")]
    info_dir = next((f.parts[0] for f in files if f.parts[0].endswith(".dist-info")), None)
    if info_dir is None:
        raise ExternalError("cannot find mlgate's .dist-info to repack it as a wheel")
    skip = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
    entries: list[tuple[str, bytes]] = []
    for f in sorted(files, key=str):
        name = str(f).replace(os.sep, "/")
        if "__pycache__" in f.parts or name.endswith(".pyc"):
            continue
        if f.parts[0] == info_dir and f.name in skip:
            continue
        entries.append((name, Path(str(dist.locate_file(f))).read_bytes()))
    record = [f"{n},sha256={_b64(d)},{len(d)}" for n, d in entries] + [f"{info_dir}/RECORD,,"]
    entries.append((f"{info_dir}/RECORD", ("\n".join(record) + "\n").encode()))
    key = hashlib.sha256(b"".join(n.encode() + d for n, d in entries)).hexdigest()[:20]
    out = cache / key / f"mlgate-{dist.version}-py3-none-any.whl"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zinfo = zipfile.ZipInfo(name, date_time=_EPOCH)
            zinfo.external_attr = 0o644 << 16
            zinfo.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zinfo, data)
    tmp.rename(out)
    return out


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
