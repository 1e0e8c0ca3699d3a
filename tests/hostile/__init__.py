"""The hostile corpus: small files that try to hang nnspec, blow up its memory, reach its terminal raw, run code,
or end in an unplaced error. Each case is files to write and an ``nnspec`` command to run on them
(tests/hostile/runner.py runs it in a child process under a 4 GiB address-space limit and a 20 s timeout).

Every case must end the same way: a non-zero exit, one placed message (``m.yaml:3:5: ...`` for a model file,
``w.pt: ...`` for a weights file) that names the cause, no traceback, no "internal error", no raw control
character or bidi override in the output, no marker file (the payloads that would run code write one), and
in under 4 s past nnspec's start-up (1 s for files under 1 MB).

The cases are generated, one module per kind of input: model_files.py (YAML and the spec), forwards.py (custom
forward text), weight_files.py (.pt, .npz, .safetensors and weight checks) and terminal.py (names that carry
escape sequences).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "PWNED"  # a payload that ran would make this file in the case's folder
TIME_LIMIT_S = 20  # the child is killed after this: a hang
FAST_S = 4.0  # what a case may take, past nnspec's start-up (its imports, ~1 s)
FAST_SMALL_S = 1.0  # ... where its files are under 1 MB
ADDRESS_SPACE = 4 << 30  # RLIMIT_AS of the child


@dataclass(frozen=True)
class Case:
    """One hostile input and the command that reads it.

    ``files`` maps a file name to its bytes (or to a function writing it into a folder, for big files);
    ``args`` is the nnspec command line, run in that folder; ``phrase`` a regular expression the message must
    match (it names the cause); ``place`` the file the message must start with, ``line`` whether a line number
    must follow (model files)."""

    id: str
    kind: str  # hang | memory | message | terminal | code
    files: dict[str, bytes | Callable[[Path], None]]
    args: list[str]
    phrase: str
    place: str
    line: bool = True
    note: str = ""
    exit_codes: tuple[int, ...] = (1,)
    env: dict[str, str] = field(default_factory=dict)


def all_cases() -> list[Case]:
    from . import forwards, model_files, terminal, weight_files

    cases = [*model_files.cases(), *forwards.cases(), *weight_files.cases(), *terminal.cases()]
    ids = [c.id for c in cases]
    assert len(set(ids)) == len(ids), "case ids must be unique"
    return cases
