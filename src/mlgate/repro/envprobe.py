"""Describe the running interpreter: version, platform, PEP 508 marker values, distributions.

Run by ``mlgate.repro.environment`` inside the training environment (``python -c`` with this
file's text), so it uses the standard library only and runs on every Python mlgate may meet
(3.8 and later: annotations stay strings). Printed as one JSON object on stdout. The current
folder is taken off ``sys.path`` first, so a project folder never changes the answer.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from typing import Any


def _modules(dist: Any) -> list[str]:
    """Top-level import names a distribution provides (top_level.txt, else its file list)."""
    text = dist.read_text("top_level.txt")
    if text:
        return sorted({line.strip() for line in text.splitlines() if line.strip()})
    found: set[str] = set()
    for item in dist.files or ():
        parts = item.parts
        if not parts or parts[0] in ("..", "") or parts[0].endswith((".dist-info", ".data")):
            continue
        if len(parts) == 1:
            name = parts[0]
            if name.endswith(".py"):
                found.add(name[:-3])
            elif name.endswith((".so", ".pyd")):
                found.add(name.split(".", 1)[0])
        elif parts[0] != "__pycache__" and parts[0].isidentifier():
            found.add(parts[0])
    return sorted(found)


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
        name = dist.metadata["Name"]
        if not name:
            continue
        distributions.append(
            {
                "name": name,
                "version": dist.version,
                "requires": list(dist.requires or ()),
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
