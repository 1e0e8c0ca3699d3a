"""Writing files so that a failure leaves none half-written: ``save_atomic``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def save_atomic(path: str | os.PathLike, write: Callable[[Any], None] | None = None, *,
                write_path: Callable[[str], None] | None = None) -> None:
    """Write ``path`` through a temporary file in the same folder, renamed over it once complete: ``write(f)``
    writes to the open binary file, or ``write_path(tmp)`` to the temporary file's name (a library that
    opens the path itself). The file gets the mode a new file would (mkstemp's is private)."""
    path = Path(path).resolve()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        if write is not None:
            with os.fdopen(fd, "wb") as f:
                write(f)
        else:
            os.close(fd)
            write_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
