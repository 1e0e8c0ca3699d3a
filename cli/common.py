"""The ``nnspec`` command's Typer app and what every command shares: printing (escaped for a terminal),
failing with one line instead of a traceback (or, where JSON was asked for, with the errors as JSON on stdout),
and the model argument."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from nnspec.errors import NNSpecError, printable
from nnspec.progress import quiet
from nnspec.trace import render


def echo(message: str = "", err: bool = False, nl: bool = True) -> None:
    """Print a line: everything nnspec prints goes through here. Names, keys, messages and file names come from
    files that may be hostile, so control characters and bidi controls are shown as escapes (``\\x1b``), never
    sent raw to the terminal (where ESC ] 0 ; ... BEL retitles the window and U+202E reverses text). JSON output
    is already ASCII (json.dumps escapes), so this leaves it as it is."""
    typer.echo(printable(message), err=err, nl=nl)


def render_table(rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """``render``, with a cell that needs escapes escaped first, so that its column stays aligned."""
    text = render(rows, right)
    return text if printable(text) == text else render([[printable(c) for c in row] for row in rows], right)


# The order of ``nnspec --help``'s list: running first, then looking, converting, and the tool's own
ORDER = ("run", "predict", "validate", "summary", "graph", "compile", "expand", "export", "import", "weights", "schema",
         "ops", "info")


class _Commands(TyperGroup):
    """nnspec's commands. A usage error is printed by Typer, not by ``echo``, and it quotes the command line (a file
    name a glob matched, say): its message is escaped here, on its way out, like everything else nnspec prints."""

    def list_commands(self, ctx):
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    def main(self, *args, **kwargs):
        token = _JSON.set(False)  # set by make_context for this command line, and given back after it
        try:
            return super().main(*args, **kwargs)
        finally:
            _JSON.reset(token)

    def make_context(self, info_name, args, *rest, **kwargs):
        _JSON.set(wants_json(args))
        with _usage_errors():
            return super().make_context(info_name, args, *rest, **kwargs)

    def invoke(self, ctx):
        with _usage_errors():
            return super().invoke(ctx)


# Whether this command line asked for JSON (--json, or --format json): its errors are then JSON too
_JSON: ContextVar[bool] = ContextVar("nnspec_json", default=False)


def wants_json(args: list[str]) -> bool:
    args = list(args)
    return "--json" in args or "--format=json" in args or any(
        a in ("--format", "-f") and b == "json" for a, b in zip(args, args[1:]))


@contextmanager
def _usage_errors():
    """A usage error (a bad option value, an unknown option) as JSON where JSON was asked for, else as Typer
    prints it, its message escaped on the way out like everything else nnspec prints."""
    try:
        yield
    except Exception as e:  # click's UsageError and BadParameter (newer typers vendor click: no class to name)
        if not (isinstance(getattr(e, "message", None), str) and hasattr(e, "format_message")):
            raise
        if _JSON.get():
            print_errors([error_json(message=e.format_message(), kind="usage error")])
            raise typer.Exit(getattr(e, "exit_code", 2)) from None
        e.message = printable(e.message)
        raise


def error_json(error: NNSpecError | None = None, *, message: str = "", kind: str = "error") -> dict:
    """One error as ``--json`` reports it: where (file, line, column: 1-based, or null), what (path: the dotted
    path into the model, or null) and the message, with its kind (spec error, shape error, usage error, ...)."""
    if error is None:
        return {"kind": kind, "file": None, "line": None, "column": None, "path": None, "message": message}
    where = error.position
    return {"kind": error.kind, "file": where.file if where else None, "line": where.line if where else None,
            "column": where.col if where else None, "path": error.path, "message": error.message}


def print_errors(errors: list[dict]) -> None:
    echo(json.dumps({"errors": errors}, indent=2))


app = typer.Typer(
    cls=_Commands,
    help="Compile torch.nn models written in YAML or JSON, inspect them, and run them on NumPy.\n\n"
         "A first look at a model: check every shape without running anything, list its modules and "
         "state_dict keys, draw it, then run it with its shape trace. Each command's --help has examples.\n\n"
         "\b\n"
         "  nnspec validate model.yaml -s N,3,224,224\n"
         "  nnspec summary model.yaml\n"
         "  nnspec graph model.yaml -s N,3,H,W -o model.html\n"
         "  nnspec run model.yaml -s 1,3,224,224",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


ModelArg = Annotated[Path, typer.Argument(metavar="MODEL", help="Model file (.yaml, .yml or .json).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]


def on_terminal() -> bool:
    """Whether stderr is a terminal a person watches (a progress bar there, nothing where it is piped)."""
    return sys.stderr.isatty()


@contextmanager
def progress_bar(title: str):
    """A progress bar on stderr for long work, where stderr is a terminal and no JSON was asked for, erased
    when the work ends; yields the ``nnspec.progress.Progress`` to give the library (a no-op elsewhere)."""
    if not on_terminal() or _JSON.get():
        yield quiet
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(file=sys.stderr, force_terminal=True), transient=True) as bar:
        task = bar.add_task(title, total=None)
        shown = [None]

        def report(stage: str, done: int, total: int | None) -> None:
            bar.update(task, description=f"{title}: {stage}", completed=done, total=total)
            if stage != shown[0]:  # a new stage shows at once, not at the next of the bar's ten refreshes a second
                shown[0] = stage
                bar.refresh()

        yield report


def fail(message: str, code: int = 1, prefix: bool = True, error: NNSpecError | None = None) -> None:
    """Stop with exit status ``code``: ``message`` on stderr, or with --json, the error (``error``'s several
    errors where it holds them) as JSON on stdout."""
    if _JSON.get():
        errors = getattr(error, "errors", None) or ([error] if error is not None else [])
        print_errors([error_json(e) for e in errors] or [error_json(message=message, kind=_kind(message))])
    else:
        echo(f"error: {message}" if prefix and "\n" not in message else message, err=True)
    raise typer.Exit(code)


def _kind(message: str) -> str:
    return "internal error" if message.startswith("internal error") else "error"


def guard(fn):
    """Run a command body: an NNSpecError becomes its message and exit 1, never a traceback."""
    try:
        return fn()
    except typer.Exit:
        raise
    except NNSpecError as e:  # a placed error reads as compilers print them: file:line:col: message
        fail(str(e), prefix=e.position is None, error=e)
    except BrokenPipeError:  # the reader went away (`nnspec run ... | head`): stop quietly, as other tools do
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - interpreter exit flushes it
        raise typer.Exit(141) from None
    except MemoryError:
        fail("out of memory: the model or its inputs need more memory than this machine has free")
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except Exception as e:  # a bug in nnspec: still one line, with a way to get the traceback
        if os.environ.get("NNSPEC_DEBUG"):
            raise
        fail(f"internal error: {type(e).__name__}: {e} (set NNSPEC_DEBUG=1 for the traceback)")
