"""Describe the running interpreter: version, platform, PEP 508 marker values, distributions.

Run by ``mlgate.repro.environment`` inside the training environment (``python -c`` with this
file's text), so it uses the standard library only and runs on every Python mlgate may meet
(3.8 and later: annotations stay strings). Printed as one JSON object on stdout. The current
folder is taken off ``sys.path`` first, so a project folder never changes the answer.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
from collections.abc import Iterator
from typing import Any


def _modules(dist: Any) -> list[str]:
    """Top-level import names a distribution provides (top_level.txt, else the files it lists
    that are there, as ``dist.files`` lists them since Python 3.12)."""
    text = dist.read_text("top_level.txt")
    if text:
        return sorted({line.strip() for line in text.splitlines() if line.strip()})
    found: set[str] = set()
    for path, parts in _files(dist):
        if not parts or parts[0] in ("..", "") or parts[0].endswith((".dist-info", ".data")):
            continue
        name = None
        if len(parts) == 1:
            if parts[0].endswith(".py"):
                name = parts[0][:-3]
            elif parts[0].endswith((".so", ".pyd")):
                name = parts[0].split(".", 1)[0]
        elif parts[0] != "__pycache__" and parts[0].isidentifier():
            name = parts[0]
        if name is not None and name not in found and dist.locate_file(path).exists():
            found.add(name)
    return sorted(found)


def _files(dist: Any) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Each file a distribution lists and its path parts (as ``PurePosixPath.parts``).

    RECORD is read directly (its first column): ``dist.files`` builds a path object for every
    line, most of the probe's time in a large environment. Distributions without a RECORD
    (egg-info) go through ``dist.files``."""
    record = dist.read_text("RECORD")
    if record is None:
        for item in dist.files or ():
            yield str(item), tuple(item.parts)
        return
    for row in csv.reader(record.splitlines()):
        if not row:
            continue
        path = row[0]
        if path.startswith("/"):  # absolute: its first part is "/", never a module
            yield path, ("/",)
        else:
            yield path, tuple(part for part in path.split("/") if part and part != ".")


def markers() -> dict[str, str]:
    """PEP 508 environment marker values (what ``packaging.markers.default_environment`` gives)."""
    info = sys.implementation.version
    version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def describe() -> dict[str, Any]:
    """The whole answer, as plain JSON-able data."""
    from importlib import metadata

    distributions = []
    for dist in metadata.distributions():
        # Each ``dist.metadata`` parses METADATA again (``name``, ``version`` and ``requires``
        # would parse it three times): parsed once here.
        info = dist.metadata
        name = info["Name"]
        if not name:
            continue
        requires = info.get_all("Requires-Dist")
        if requires is None and dist.read_text("requires.txt") is not None:
            requires = dist.requires  # an egg-info distribution's requirements
        distributions.append(
            {
                "name": name,
                "version": info["Version"],
                "requires": list(requires or ()),
                "modules": _modules(dist),
            }
        )
    return {
        "executable": sys.executable,
        "prefix": sys.prefix,
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": sys.platform + "-" + platform.machine(),
        "markers": markers(),
        "distributions": distributions,
    }


if __name__ == "__main__":
    cwd = os.getcwd()  # noqa: PTH109 - the probe avoids pathlib: it runs on any Python
    sys.path[:] = [p for p in sys.path if p not in ("", cwd)]
    json.dump(describe(), sys.stdout)
