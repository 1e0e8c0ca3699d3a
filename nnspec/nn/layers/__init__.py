"""The torch.nn layers nnspec implements, one family per file (each file's __all__ lists its classes)."""

from . import (activation, conv, distance, dropout, flatten, linear, loss, normalization, padding, pooling, rnn,
               sparse, transformer, vision)
from .activation import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .transformer import *  # noqa: F403
from .vision import *  # noqa: F403

_FAMILIES = (activation, conv, distance, dropout, flatten, linear, loss, normalization, padding, pooling, rnn, sparse,
             transformer, vision)
__all__ = sorted(name for family in _FAMILIES for name in family.__all__)
