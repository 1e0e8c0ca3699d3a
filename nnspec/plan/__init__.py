"""Execution plans: a model compiled, per input signature, into one flat list of kernel calls.

``record`` turns one forward on shape-only inputs into steps over numbered slots; ``passes``
rewrite them (drop identities, fold BatchNorm, fuse residual adds and activations, fold constants,
lower layers to their kernels, reuse memory); ``lower`` and ``kernels`` hold the kernels the passes
put in; ``plan`` compiles, caches and runs; ``timing`` runs and times a model for the CLI.
"""

from .passes import PASSES
from .plan import Compiled, Plan, compile, timed_calls
from .record import PlanError, Program, Step

__all__ = ["PASSES", "Compiled", "Plan", "PlanError", "Program", "Step", "compile", "timed_calls"]
