"""The editor schema as an editor uses it: yaml-language-server (the engine of VS Code's YAML extension).

One server process, the npm package pinned in tests/lsp/package-lock.json (installed there with ``npm ci``), is
driven over the Language Server Protocol on stdio, with schemas/nnspec.schema.json associated through the
``yaml.schemas`` setting (files that carry a ``# yaml-language-server: $schema=`` modeline name the same file).
Every model file opens with no diagnostic; each mistake in tests/bad/ that the schema can see (nnspec refuses
the file when it validates it against its specs, which the schema mirrors) is reported on the lines nnspec
reports and on no other; completion offers the layer types after ``type:`` and, in a layer's mapping, that
layer's arguments and not the keys that are errors there.

Without node or the installed server the tests skip; with NNSPEC_REQUIRE_TOOLS=1 (CI) they fail instead.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from nnspec.errors import NNSpecError, SpecError
from nnspec.spec import validate
from nnspec.spec.loader import parse, read

ROOT = Path(__file__).resolve().parents[2]
LSP_DIR = ROOT / "tests" / "lsp"
PACKAGE = LSP_DIR / "node_modules" / "yaml-language-server"
SCHEMA = ROOT / "schemas" / "nnspec.schema.json"
MODEL_FILES = sorted(p for p in (ROOT / "models").rglob("*") if p.suffix in (".yaml", ".yml"))
BAD_FILES = sorted(p for p in (ROOT / "tests" / "bad").iterdir() if p.suffix in (".yaml", ".yml", ".json"))
TIMEOUT = 60  # seconds for one answer; the whole module takes a few seconds

# tests/bad files nnspec refuses while validating against its specs, but for what no JSON Schema can say
NOT_SCHEMA_MISTAKES = {
    "nan_argument.yaml": "NaN passes every bound of a JSON Schema (JSON has no NaN; yaml-language-server reads .nan)",
    "module_bomb.yaml": "the cap on the number of modules counts the expanded model; a schema sees one ModuleList",
    "name_twice_across_registries.yaml": "a key of one mapping against the keys of another: JSON Schema cannot "
                                         "compare them",
}
# mistakes in the YAML itself: the server's own parser reports them, no schema needed
YAML_MISTAKES = ["duplicate_key.yaml", "python_tag.yaml", "yaml_syntax_error.yaml", "yaml_tab_indent.yaml"]


def _nnspec_lines(path: Path) -> list[int] | None:
    """The lines nnspec reports where it refuses the file while validating it against its specs (what the
    schema mirrors); None where it reads the file (or refuses it before, or only when building it)."""
    try:
        text, filename = read(path)
        data = parse(text, filename)
    except NNSpecError:
        return None  # not UTF-8, not YAML, too big or too deep: before any schema
    try:
        validate(data, filename)
    except SpecError as e:
        return sorted({err.position.line for err in getattr(e, "errors", [e]) if err.position and err.position.line})
    return None


def _expected_line(path: Path) -> int | None:
    """The line tests/bad's ``# expect:`` first line names (tests/test_bad_files.py reads the same)."""
    m = re.search(r"\bline=(\d+)", path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0])
    return int(m.group(1)) if m else None


SCHEMA_MISTAKES = {p.name: lines for p in BAD_FILES if p.name not in NOT_SCHEMA_MISTAKES
                   and (lines := _nnspec_lines(p)) is not None}


class LanguageServer:
    """A minimal LSP client: requests and notifications out, the server's answers, requests and diagnostics in."""

    def __init__(self, command: list[str], settings: dict):
        self.settings = settings
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                        cwd=LSP_DIR)
        self.answers: dict[int, queue.Queue] = {}
        self.diagnostics: dict[str, list] = {}
        self.changed = threading.Condition()
        self.ids = iter(range(1, 1 << 30))
        self.send_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        with self.send_lock:
            self.process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            self.process.stdin.flush()

    def _read(self) -> None:
        out = self.process.stdout
        while True:
            headers = {}
            while (line := out.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("ascii").partition(":")
                headers[name.strip().lower()] = value.strip()
            if "content-length" not in headers:
                break  # the server exited
            message = json.loads(out.read(int(headers["content-length"])))
            method = message.get("method")
            if method and "id" in message:  # the server asks: its settings, or a registration to acknowledge
                items = message["params"].get("items", []) if method == "workspace/configuration" else None
                result = [self.settings if i.get("section") == "yaml" else {} for i in items] if items else None
                self._send({"id": message["id"], "result": result})
            elif method == "textDocument/publishDiagnostics":
                with self.changed:
                    self.diagnostics[message["params"]["uri"]] = message["params"]["diagnostics"]
                    self.changed.notify_all()
            elif "id" in message and message["id"] in self.answers:
                self.answers[message["id"]].put(message)
        with self.changed:
            self.changed.notify_all()

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-3000:]

    def request(self, method: str, params: dict):
        number = next(self.ids)
        self.answers[number] = queue.Queue()
        self._send({"id": number, "method": method, "params": params})
        try:
            answer = self.answers[number].get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"yaml-language-server did not answer {method}; its stderr:\n{self.stderr()}")
        finally:
            del self.answers[number]
        assert "error" not in answer, answer["error"]
        return answer["result"]

    def notify(self, method: str, params: dict) -> None:
        self._send({"method": method, "params": params})

    def open(self, uri: str, text: str) -> None:
        with self.changed:
            self.diagnostics.pop(uri, None)
        self.notify("textDocument/didOpen",
                    {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}})

    def close(self, uri: str) -> None:
        self.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def wait_diagnostics(self, uris: list[str], until=lambda diagnostics: True) -> dict[str, list]:
        """The diagnostics published for each document since it was opened (the first that ``until`` takes)."""
        deadline = time.monotonic() + TIMEOUT
        with self.changed:
            while not all(u in self.diagnostics and until(self.diagnostics[u]) for u in uris):
                if self.process.poll() is not None:
                    raise AssertionError(f"yaml-language-server exited; its stderr:\n{self.stderr()}")
                if not self.changed.wait(deadline - time.monotonic()):
                    missing = [u for u in uris if u not in self.diagnostics]
                    raise AssertionError(f"no diagnostics in {TIMEOUT} s for {missing[:5]}")
            return {u: self.diagnostics[u] for u in uris}

    def complete(self, text: str, line: int, character: int) -> list[str]:
        """The labels completion offers at (line, character), 0-based, in a new document holding ``text``."""
        uri = (LSP_DIR / f"completion-{next(self.ids)}.yaml").as_uri()  # the server caches a document by its URI
        self.open(uri, text)
        result = self.request("textDocument/completion",
                              {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
        self.close(uri)
        return [item["label"] for item in (result["items"] if isinstance(result, dict) else result or [])]

    def stop(self) -> None:
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _missing_tool() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (yaml-language-server runs on it)"
    if not (PACKAGE / "package.json").is_file():
        return "yaml-language-server is not installed: run `npm ci` in tests/lsp"
    lock = json.loads((LSP_DIR / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/yaml-language-server"]["version"]
    installed = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
    if installed != pinned:
        return f"yaml-language-server {installed} is installed, {pinned} is pinned: run `npm ci` in tests/lsp"
    return None


@pytest.fixture(scope="module")
def server():
    missing = _missing_tool()
    if missing:
        if os.environ.get("NNSPEC_REQUIRE_TOOLS") == "1":
            pytest.fail(f"NNSPEC_REQUIRE_TOOLS=1 but {missing}")
        pytest.skip(missing)
    settings = {"schemas": {SCHEMA.as_uri(): ["*.yaml", "*.yml"]}, "validate": True, "completion": True,
                "hover": False, "schemaStore": {"enable": False}, "kubernetesCRDStore": {"enable": False}}
    ls = LanguageServer(["node", str(PACKAGE / "bin" / "yaml-language-server"), "--stdio"], settings)
    try:
        ls.request("initialize", {"processId": os.getpid(), "rootUri": ROOT.as_uri(), "capabilities": {}})
        ls.notify("initialized", {})
        ls.notify("workspace/didChangeConfiguration", {"settings": {"yaml": settings}})  # it asks for them back
        # the schema is in effect once a mistake is reported (documents opened from now on are checked with it)
        probe = (LSP_DIR / "probe.yaml").as_uri()
        ls.open(probe, "type: Conv2D\n")
        ls.wait_diagnostics([probe], until=bool)
        ls.close(probe)
        yield ls
    finally:
        ls.stop()


@pytest.fixture(scope="module")
def diagnostics(server) -> dict[str, list]:
    """Every model file's and every bad file's diagnostics, opened together (the server checks them in turn)."""
    paths = MODEL_FILES + [p for p in BAD_FILES if p.name in SCHEMA_MISTAKES or p.name in YAML_MISTAKES]
    for path in paths:
        server.open(path.as_uri(), path.read_text(encoding="utf-8"))
    found = server.wait_diagnostics([p.as_uri() for p in paths])
    for path in paths:
        server.close(path.as_uri())
    return {path.name if path.parent.name == "bad" else str(path.relative_to(ROOT)): found[path.as_uri()]
            for path in paths}


def _shown(diagnostics: list) -> str:
    return "\n".join(f"  line {d['range']['start']['line'] + 1}: {d['message']}" for d in diagnostics)


def _lines(diagnostics: list) -> set[int]:
    return {d["range"]["start"]["line"] + 1 for d in diagnostics}


# --------------------------------------------------------------------------- diagnostics


def test_the_corpora_are_there():
    assert len(MODEL_FILES) >= 50
    assert all(name in SCHEMA_MISTAKES for name in (p.name for p in BAD_FILES) if name.startswith("schema_")), \
        "every tests/bad/schema_* file is a mistake nnspec finds against its specs"
    assert len(SCHEMA_MISTAKES) >= 20


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: str(p.relative_to(ROOT / "models")))
def test_model_file_has_no_diagnostic(diagnostics, path):
    found = diagnostics[str(path.relative_to(ROOT))]
    assert not found, f"yaml-language-server reports, on a model nnspec takes:\n{_shown(found)}"


@pytest.mark.parametrize("name", sorted(SCHEMA_MISTAKES))
def test_schema_mistake_is_reported_on_its_line(diagnostics, name):
    expected, nnspec_lines = _expected_line(ROOT / "tests" / "bad" / name), SCHEMA_MISTAKES[name]
    assert expected is None or expected in nnspec_lines, f"{name}: nnspec reports lines {nnspec_lines}"
    found = diagnostics[name]
    assert set(nnspec_lines) <= _lines(found), f"nnspec reports lines {nnspec_lines}, the editor:\n{_shown(found)}"
    assert _lines(found) <= set(nnspec_lines), f"nnspec reports lines {nnspec_lines}, the editor:\n{_shown(found)}"


@pytest.mark.parametrize("name", YAML_MISTAKES)
def test_yaml_mistake_is_reported_on_its_line(diagnostics, name):
    found = diagnostics[name]
    assert _expected_line(ROOT / "tests" / "bad" / name) in _lines(found), _shown(found)


def test_reserved_names_are_named(diagnostics):
    messages = [d["message"] for d in diagnostics["reserved_name.yaml"]]
    assert messages == ["'forward' can't be a name here: it is a Module attribute"]


def test_one_message_for_a_user_module_with_a_mistake(diagnostics):
    """The form is chosen before it is checked: a user module is not also reported as every other form."""
    for name in ("schema_bad_class_name.yaml", "schema_inputs_not_names.yaml", "reserved_name.yaml"):
        assert len(diagnostics[name]) == 1, _shown(diagnostics[name])
        assert "type" not in diagnostics[name][0]["message"], _shown(diagnostics[name])


# --------------------------------------------------------------------------- completion

def test_completion_after_type_offers_the_layer_types(server):
    for text, line, column in [("name: Net\nmodules:\n  conv:\n    type: \n", 3, 10),
                               ("type: Sequential\nmodules:\n  - type: \n", 2, 10)]:
        labels = server.complete(text, line, column)
        assert {"Conv2d", "ReLU", "Linear", "Sequential", "ModuleDict", "Module"} <= set(labels), labels
        assert len(labels) >= 140


@pytest.mark.parametrize("text, line, column", [
    ("name: Net\nmodules:\n  conv:\n    type: Conv2d\n    \n", 4, 4),
    ("type: Conv2d\nstride: 2\n\n", 2, 0),
    ("type: Sequential\nmodules:\n  - type: Conv2d\n    \n", 3, 4),
    ("Conv2d: [1, 2, 3]\n\n", 1, 0),
], ids=["in a user module", "at the root", "in a list", "one-key"])
def test_completion_in_a_conv2d_mapping_offers_its_arguments(server, text, line, column):
    labels = set(server.complete(text, line, column))
    assert {"padding_mode", "dilation", "groups", "bias", "padding"} <= labels, labels
    if "type: Conv2d" in text:
        assert "in_channels" in labels, labels
    assert not labels & {"args", "index", "repeat", "when", "blocks", "functions", "weights", "tied"}, labels
    assert not labels & {"in_features", "modules", "parameters", "property"}, labels  # other forms' keys
