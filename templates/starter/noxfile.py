"""Local entry point: `nox -s mlgate` runs the same checks as the pull request."""

from __future__ import annotations

import nox

nox.options.sessions = ["mlgate"]
nox.options.reuse_venv = "yes"


@nox.session
def mlgate(session: nox.Session) -> None:
    """Train, then run mlgate's pull-request check on every model."""
    session.install("-r", "requirements.txt", "mlgate")
    session.run("mlgate", "config", "check")
    session.run("mlgate", "train", "--use-cache")
    session.run("mlgate", "check", *session.posargs)


@nox.session
def train(session: nox.Session) -> None:
    """Train every model through mlgate, which keeps a run record for lineage."""
    session.install("-r", "requirements.txt", "mlgate")
    session.run("mlgate", "train", *session.posargs)
