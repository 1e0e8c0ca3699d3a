"""``python -m nnspec_cli``: the ``nnspec`` command."""

from . import main

main()
