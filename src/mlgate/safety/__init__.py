"""Model files are data, never code.

Everything that decides whether mlgate may open a model file lives here, apart from the model
formats that use it: the exact allow-list of (module, qualified name) pairs (``allowlist``),
the static pickle walker that judges a stream without building or importing anything
(``picklewalk``), joblib's containers with bounded decompression (``containers``), the skops
checks (``skopsfile``) and the loaders that enforce the same list a second time while they load
(``loaders``). ``judge`` is the one entry point for a scan.
"""

from __future__ import annotations

from mlgate.safety.judge import Judgement, judge_bytes

__all__ = ["Judgement", "judge_bytes"]
