"""Local entry point: `nox -s mlgate` runs the same check as the pull request, on your laptop.

nox -s mlgate                     # every model
nox -s mlgate -- --model churn    # one model (arguments after -- go to `mlgate check`)
nox -s mlgate -- --base main      # only the models your branch touches
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["mlgate"]
nox.options.reuse_venv = "yes"

# The same engine, from the same source and version, as the workflows' `uses:` lines (mlgate is
# not on the package index); MLGATE_SPEC overrides it (a local checkout, a wheel, another tag).
ENGINE = "mlgate @ git+https://github.com/mlgate-dev/mlgate@v0.1.0"


def _install(session: nox.Session) -> None:
    session.install("-r", "requirements.txt", os.environ.get("MLGATE_SPEC", ENGINE))


@nox.session
def mlgate(session: nox.Session) -> None:
    """mlgate.yaml valid, then the pull-request check (verdicts in .mlgate/out/<model>/)."""
    _install(session)
    session.run("mlgate", "config", "check")
    session.run("mlgate", "check", *session.posargs)


@nox.session
def scan(session: nox.Session) -> None:
    """Refuse model files that would run code when loaded (also a pre-commit hook)."""
    _install(session)
    session.run("mlgate", "scan", *session.posargs)
