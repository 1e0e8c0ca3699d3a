"""The seeded generator behind weight initialisation and dropout (torch.manual_seed)."""

from __future__ import annotations

import numpy

_generator = numpy.random.default_rng(0)


def manual_seed(seed: int) -> numpy.random.Generator:
    """Reseed the default generator: the same seed gives the same weights and dropout masks."""
    global _generator
    _generator = numpy.random.default_rng(seed)
    return _generator


def generator() -> numpy.random.Generator:
    """The default generator; draws happen on the host and are copied to the device."""
    return _generator
