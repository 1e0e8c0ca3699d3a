"""The functional ops, under torch.nn.functional's names and signatures, one family per module.

Each op checks its arguments and input the way torch does (same conditions, messages that
name the op and the shapes), adds a batch dim to unbatched input, and then either returns
the shape-only result its shape rule gives (a ``MetaArray`` input, for static inference)
or hands off to one kernel (``nnspec.runtime.kernels``). Layers and custom forwards call
these. ``NN_FUNCTIONAL`` lists what a forward may call as ``F.<name>``.
"""

from __future__ import annotations

from collections.abc import Callable

from . import core
from .core import *  # noqa: F403

# the families: each module's __all__ is its ops, all of them callable from a forward as F.<name>
# (a family module is never named as one of its ops: F.dropout is the function, F.dropouts the module)
from . import activation, attention, distance, dropouts, loss, normalization, pooling, sparse, vision
from .activation import *  # noqa: F403
from .attention import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropouts import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .sparse import *  # noqa: F403
from .vision import *  # noqa: F403

_FAMILIES = (activation, attention, distance, dropouts, loss, normalization, pooling, sparse, vision)

NN_FUNCTIONAL: dict[str, Callable] = {
    **{name: getattr(core, name) for name in core.OPS},
    **{name: getattr(family, name) for family in _FAMILIES for name in family.__all__},
}
