"""The model registry, kept in annotated git tags (GTO-compatible grammar).

Each public function takes one frozen request (defined beside it) and returns a result object;
nothing here prints. Where to look:

- ``grammar``: tag names (``NAME@vX.Y.Z``, ``NAME#STAGE#N``, ...), versions and references;
- ``tags``: the tags, read locally (``git for-each-ref``) or from a remote, and their signatures;
- ``state``: tags -> events -> replay -> the state of every model (GTO's semantics);
- ``payload``: tag messages and their JSON payload, schema-checked once per tag object;
- ``queries``: show, history, resolve, check-ref, stages, doctor;
- ``versions``: register, deregister, deprecate, the next version;
- ``stages``: assign, unassign, rollback;
- ``transaction``: the race-safe write every version and stage write runs (and ``--delete``);
- ``policy``: the stage policy from mlgate.yaml (allowed stages, order, passing verdicts);
- ``evidence``: what a registration records about its commit;
- ``github_release``: the GitHub Release of a registered version;
- ``modelfile`` and ``champion``: a registered version's model file, and the gate's champion;
- ``render``: plain-text views; ``showcache``: ``show``'s answer remembered by the tags;
- ``workspace``: a temporary clone for writing straight to a remote URL.

``mlgate promote`` and ``mlgate rollback`` (``mlgate.publish.release``) are composites:
``stages.assign`` or ``stages.rollback``, then the image's stage tag moved to the version's
image.
"""
