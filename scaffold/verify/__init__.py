"""Parity runs: transformers against a tree's engine (the only torch user).

Importing this package imports neither torch nor transformers; ``verify``
imports them when called, and the engine runs in a subprocess
(``engine_main``) that imports the tree's own package.
"""

from __future__ import annotations

from scaffold.verify.parity import PROMPT, VerifyResult, verify

__all__ = ["PROMPT", "VerifyResult", "verify"]
