"""The Python text of a model file, as torch code is written: a forward with its helper methods, and functions.

A module's ``forward:`` holds either a forward's body alone, or class-body code: ``def forward(self, ...)``
beside helper methods (``def _scale(self, input)``), as the reference class has them. The file's top-level
``functions:`` holds module-level functions the forwards call by name (torchvision's
``shifted_window_attention``, ``stochastic_depth``). Nothing here runs: a ``def`` is kept as its ``ast``
and inlined by the compiler where it is called.

A signature may have defaults (constants: numbers, strings, None, tuples of them), keyword-only
parameters, ``*args`` and ``**kwargs``. Decorators that change nothing at inference are accepted
(``@torch.jit.unused``, ``@torch.fx.wrap``, ``@staticmethod``...); any other is refused at its place.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ..errors import CompileError, ErrorLog
from .source import ForwardSource

# decorators of torch code that do nothing when nnspec compiles the function
NO_OP_DECORATORS = frozenset({
    "torch.jit.unused", "torch.jit.ignore", "torch.jit.export", "torch.jit.script", "torch.fx.wrap",
    "torch.no_grad", "torch.inference_mode", "staticmethod", "torch.compiler.disable", "torch._dynamo.disable",
    "torch.jit._overload_method", "functools.wraps",
})
# a def with one of these declares a signature for TorchScript or type checkers; the def of that name without it
# is the one that runs (torchvision's _DenseLayer.forward)
OVERLOAD_DECORATORS = frozenset({"torch.jit._overload_method", "torch.jit._overload", "overload", "typing.overload"})
MAX_FUNCTIONS = 1_000  # defs in one text


@dataclass(frozen=True, eq=False)
class FunctionCode:
    """One ``def``: its ast, the text it sits in (for positions), and whether it takes ``self`` first."""

    fn: ast.FunctionDef
    source: ForwardSource
    method: bool  # first parameter is self (a method not marked @staticmethod)
    broken: bool = False  # its header has a mistake (reported at its place): a call of it is not checked further

    @property
    def name(self) -> str:
        return self.fn.name


@dataclass(frozen=True, eq=False)
class Program:
    """A module's forward text: the entry (``forward``), its helper methods, its parameter list."""

    source: ForwardSource
    body: list  # the forward's statements
    params: ast.arguments | None  # None: a bare body, its inputs given by ``inputs:`` (or ``x``)
    inputs: list[str]  # the parameter names after self (a bare body: its inputs)
    methods: dict[str, FunctionCode] = field(default_factory=dict)
    # mistakes around the defs that leave the rest readable (a decorator, a statement among the defs, a def given
    # twice): reported with the compiler's errors, which compiles the rest
    problems: tuple[CompileError, ...] = ()


def _parse(code: str, source: ForwardSource, what: str) -> list[ast.stmt]:
    try:
        return ast.parse(code, mode="exec").body
    except SyntaxError as e:
        raise CompileError(f"{what}: invalid Python syntax: {e.msg}",
                           position=source.position(e.lineno or 1, (e.offset or 1) - 1)) from None
    except (MemoryError, RecursionError):  # Python's parser on 100,000 nested operators (------x): its stack
        raise CompileError(f"{what} nests too deeply to parse", position=source.position(_deep_line(code), 0)) \
            from None


def _deep_line(code: str) -> int:
    """The line Python's parser could not nest: the longest (the first where several are)."""
    lines = code.splitlines() or [""]
    return max(range(len(lines)), key=lambda i: len(lines[i])) + 1


def _decorator_name(d: ast.expr) -> str:
    target = d.func if isinstance(d, ast.Call) else d
    return ast.unparse(target) if isinstance(target, (ast.Name, ast.Attribute)) else ""


def _overload(s: ast.stmt) -> bool:
    return isinstance(s, ast.FunctionDef) and any(_decorator_name(d) in OVERLOAD_DECORATORS for d in s.decorator_list)


def _is_docstring(s: ast.stmt) -> bool:
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant) and isinstance(s.value.value, str)


def _function(fn: ast.stmt, source: ForwardSource, what: str, problems: list[CompileError]) -> FunctionCode:
    """The def ``fn``; a mistake in its header is added to ``problems``, and the def kept (a refused decorator
    left out; an ``async def`` marked broken, so that its calls are not checked further)."""
    where = source.position(fn.lineno, fn.col_offset)
    broken = isinstance(fn, ast.AsyncFunctionDef)
    if broken:
        problems.append(CompileError(f"{what}: 'async def' is not supported", position=where))
    static = False
    for d in fn.decorator_list:
        name = _decorator_name(d)
        if name not in NO_OP_DECORATORS:
            problems.append(CompileError(f"decorator @{ast.unparse(d)[:60]} is not supported (accepted: those that "
                                         f"change nothing at inference, such as @torch.jit.unused and "
                                         f"@torch.fx.wrap)", position=source.position(d.lineno, d.col_offset)))
        static = static or name == "staticmethod"
    a = fn.args
    first = (a.posonlyargs + a.args)[:1]
    return FunctionCode(fn, source, method=not static and bool(first) and first[0].arg == "self", broken=broken)


def _raise(problems: list[CompileError], error: CompileError | None = None) -> None:
    """Raise ``problems`` (and ``error``, the one that stops reading the text) together."""
    raise ErrorLog(problems + ([error] if error is not None else [])).error()


def parse_program(code: str, source: ForwardSource, inputs: list[str] | None) -> Program:
    """A ``forward:`` text: a bare body, or ``def forward(self, ...)`` with helper methods beside it. A mistake
    that leaves the rest readable is kept in the program's ``problems``; one that leaves no forward to compile
    (bad syntax, no ``def forward``) is raised, with the problems found before it."""
    body = [s for s in _parse(code, source, "forward") if not _overload(s)]
    defs = [s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))]
    if not defs:
        return Program(source, body, None, list(inputs) if inputs is not None else ["x"])
    problems: list[CompileError] = []
    for s in body:
        if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)) and not _is_docstring(s):
            problems.append(CompileError("a forward written as methods holds only defs (forward and its helpers)",
                                         position=source.position(s.lineno, s.col_offset)))
    if len(defs) > MAX_FUNCTIONS:
        _raise(problems, CompileError(f"more than {MAX_FUNCTIONS:,} defs in one forward",
                                      position=source.position(1, 0)))
    methods: dict[str, FunctionCode] = {}
    for s in defs:
        f = _function(s, source, "forward", problems)
        where = source.position(s.lineno, s.col_offset)
        if f.name in methods:
            problems.append(CompileError(f"method {f.name!r} is defined twice", position=where))
            continue
        if not f.method and (f.name == "forward" or not any(_decorator_name(d) == "staticmethod"
                                                             for d in s.decorator_list)):
            problems.append(CompileError(f"{f.name}'s first parameter must be self", position=where))
            f = FunctionCode(f.fn, f.source, f.method, broken=True)
        methods[f.name] = f
    if "forward" not in methods:
        if len(defs) == 1:
            _raise(problems, CompileError(f"the function must be named forward, not {defs[0].name!r}",
                                          position=source.position(defs[0].lineno, defs[0].col_offset)))
        _raise(problems, CompileError("no def forward(self, ...) among the methods", position=source.position(1, 0)))
    entry = methods.pop("forward")
    if entry.broken:  # no forward to compile: its header's mistake is the report
        _raise(problems)
    a = entry.fn.args
    names = [arg.arg for arg in (a.posonlyargs + a.args)][1:] + [arg.arg for arg in a.kwonlyargs]
    where = source.position(entry.fn.lineno, entry.fn.col_offset)
    if inputs is not None and list(inputs) != names:
        problems.append(CompileError(f"inputs: {list(inputs)} disagrees with the forward header's {names}",
                                     position=where))
    return Program(source, entry.fn.body, a, names, methods, tuple(problems))


# a def at the start of a line: what a functions: text that is not Python still tells of the names it defines
_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+([^\W\d]\w*)", re.MULTILINE)


def parse_functions(code: str, source: ForwardSource) -> tuple[dict[str, FunctionCode], list[CompileError]]:
    """The file's ``functions:`` text: module-level defs (and ``torch.fx.wrap("name")`` lines, which do nothing),
    and the mistakes found in it, each at its place, to report with the forwards' (a def with a mistake in its
    header is kept, marked broken: a forward calling it is not checked further there). Text that is not Python
    is one mistake; the names its ``def`` lines give are kept, broken, so that calls of them add none."""
    functions: dict[str, FunctionCode] = {}
    try:
        body = [s for s in _parse(code, source, "functions") if not _overload(s)]
    except CompileError as e:
        for name in _DEF.findall(code)[:MAX_FUNCTIONS]:
            stub = ast.FunctionDef(name=name, args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[],
                                                                 kw_defaults=[], defaults=[]),
                                   body=[], decorator_list=[])
            functions[name] = FunctionCode(stub, source, method=False, broken=True)
        return functions, [e]
    if len(body) > MAX_FUNCTIONS:
        raise CompileError(f"functions: more than {MAX_FUNCTIONS:,} statements", position=source.position(1, 0))
    problems: list[CompileError] = []
    for s in body:
        where = source.position(s.lineno, s.col_offset)
        if _is_docstring(s):
            continue
        if isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and _decorator_name(s.value) == "torch.fx.wrap":
            continue  # torch.fx.wrap("fn"): marks fn for symbolic tracing; nothing at inference
        if not isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            problems.append(CompileError("functions: holds only defs (module-level functions, as torch code has "
                                         "them)", position=where))
            continue
        f = _function(s, source, "functions", problems)
        if f.name in functions:
            problems.append(CompileError(f"function {f.name!r} is defined twice", position=where))
            continue
        functions[f.name] = FunctionCode(f.fn, source, method=False, broken=f.broken)
    return functions, problems


__all__ = ["FunctionCode", "Program", "parse_functions", "parse_program", "NO_OP_DECORATORS"]
