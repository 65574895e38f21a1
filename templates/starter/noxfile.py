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

# The same engine the workflows use; pin it with MLGATE_SPEC (e.g. "mlgate==0.1.0").
ENGINE = "mlgate"


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
