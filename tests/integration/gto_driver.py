"""Run GTO commands with a pinned clock, inside GTO's own virtual environment.

GTO stamps tags with ``time.time()`` to the second and orders events by that stamp; running its
commands back to back would give ties it resolves arbitrarily. Pinning the clock one second per
command (as GIT_COMMITTER_DATE does for git) keeps the tests deterministic without sleeping.

Usage: python gto_driver.py START_UNIX_TIME '[["register", "churn"], ...]'
"""

from __future__ import annotations

import json
import sys
import time


def main() -> int:
    from gto.cli import app  # GTO's environment, not the test one

    start = int(sys.argv[1])
    for offset, args in enumerate(json.loads(sys.argv[2])):
        pinned = float(start + offset)
        time.time = lambda pinned=pinned: pinned  # type: ignore[misc]
        try:
            app.main(args=args, prog_name="gto", standalone_mode=False)
        except SystemExit as exc:
            if exc.code:
                return int(exc.code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
