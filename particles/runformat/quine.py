"""The quine's run-file vocabulary (``kind = "quine"``): member weights, projections, observables.

Written by ``chemistry/quine_training.py`` (``QuineTraining.layout``), read by
``analysis/quine.py``. Observables are ``[T]`` for one member and ``[T, Q]`` for Q members;
a quine soup (a schedule of operators) adds the shared ``events`` table and counts per operator.
"""

from __future__ import annotations

from .common import WEIGHTS as WEIGHTS_NAME

KIND = "quine"

# ---- series ----------------------------------------------------------------------------------
QUINES = "quines"
WEIGHTS = f"{QUINES}/{WEIGHTS_NAME}"  # every snapshot: value [S, Q, N]
#: written once, with step 0: the fixed random projection [N, d] (auxiliary: images [px, 50])
STATIC_ARRAYS = ("projection", "image_projection")


def static_series(name: str) -> str:
    """The series path of a static array (``quines/<name>``)."""
    return f"{QUINES}/{name}"


# ---- observables (every step) ----------------------------------------------------------------
SSE, R2, MARGIN, QUOTIENT = "sse", "r2", "margin", "quotient"
SSE_REGEN, R2_REGEN = "sse_regen", "r2_regen"  # after the step's regeneration (NaN without)
RHO0, WEIGHT_RMS, OUTPUT_RMS = "rho0", "weight_rms", "output_rms"
OBSERVABLES = (SSE, R2, MARGIN, QUOTIENT, SSE_REGEN, R2_REGEN, RHO0, WEIGHT_RMS, OUTPUT_RMS)
ACCURACY = "accuracy"  # auxiliary quines only
ANCESTOR = "ancestor"  # quine soups only: [T, Q] founder of each member


def actions(operator: str) -> str:
    """Quine soups: the observable counting an operator's actions this step."""
    return f"actions_{operator}"


def applied(operator: str) -> str:
    """Quine soups: the observable counting an operator's applied actions this step."""
    return f"applied_{operator}"
