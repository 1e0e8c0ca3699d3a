"""Headless Chromium, driven over the DevTools protocol on a pipe: open a page, read what it logged, ask it
questions, take a screenshot. A PNG of a graph is its page as Chromium draws it; the tests check pages this way.

The protocol runs over the two file descriptors ``--remote-debugging-pipe`` gives the browser (3: commands in,
4: replies and events out), as NUL-separated JSON messages: no port is opened and no websocket library is
needed. The browser starts with a fresh profile and with its background networking, updates and sync off, so it
reaches for no network; it is stopped, and its profile removed, when the ``with`` block ends.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .model import GraphError

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
         "--disable-dev-shm-usage", "--remote-debugging-pipe"]


def find_chromium() -> str | None:
    """The Chromium to run: $NNSPEC_CHROMIUM where set, else the first of NAMES on the PATH."""
    given = os.environ.get("NNSPEC_CHROMIUM")
    if given:
        return shutil.which(given) or (given if os.access(given, os.X_OK) else None)
    return next((found for found in map(shutil.which, NAMES) if found), None)


class Chromium:
    """One headless Chromium with one page: ``with Chromium() as browser: browser.open(url)``.

    ``errors`` collects what the page reported as an error: uncaught exceptions, ``console.error`` and
    ``console.assert`` calls, and the browser's own error entries (a failed load, a blocked request)."""

    def __init__(self, executable: str | None = None, *, width: int = 1280, height: int = 900,
                 timeout: float = 60.0):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise GraphError("this needs Chromium (apt-get install chromium, or set NNSPEC_CHROMIUM to its path)")
        self.width, self.height, self.timeout = width, height, timeout
        self.errors: list[str] = []
        self.events: list[dict] = []
        self._id = 0
        self._buffer = b""
        self._session: str | None = None
        self._process: subprocess.Popen | None = None

    # -- the browser's life
    def __enter__(self) -> Chromium:
        self._profile = tempfile.mkdtemp(prefix="nnspec-chromium-")
        to_browser, self._write = os.pipe()
        self._read, from_browser = os.pipe()

        def wire() -> None:  # in the child: the pipes become fds 3 and 4, where Chromium looks for them
            a = fcntl.fcntl(to_browser, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_browser, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        try:
            self._process = subprocess.Popen(
                [self.executable, *FLAGS, f"--user-data-dir={self._profile}",
                 f"--window-size={self.width},{self.height}", "about:blank"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=wire, pass_fds=(3, 4))  # noqa: PLW1509 - dup2 only, which is safe between fork and exec
        except OSError as e:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise GraphError(f"Chromium ({self.executable}) did not start: {e}") from None
        finally:
            os.close(to_browser)
            os.close(from_browser)
        try:
            target = self.call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.call(f"{domain}.enable")
            self.resize(self.width, self.height)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            try:
                self.call("Browser.close", session=False, timeout=5)
            except (GraphError, OSError):
                pass
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        for fd in (self._write, self._read):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self._profile, ignore_errors=True)

    # -- the protocol
    def call(self, method: str, *, session: bool = True, timeout: float | None = None, **params: Any) -> dict:
        """Send one command and wait for its reply (events meanwhile are kept in ``events``)."""
        self._id += 1
        message: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session and self._session is not None:
            message["sessionId"] = self._session
        try:
            os.write(self._write, json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise GraphError(f"Chromium stopped (exit status {self._process.poll()})") from None
        reply = self._until(lambda m: m.get("id") == self._id, timeout or self.timeout, method)
        if "error" in reply:
            raise GraphError(f"Chromium refused {method}: {reply['error'].get('message', reply['error'])}")
        return reply.get("result", {})

    def _until(self, wanted, timeout: float, what: str) -> dict:
        end = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
                self._event(message)
            left = end - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise GraphError(f"Chromium gave no answer to {what} in {timeout:g} s")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise GraphError(f"Chromium stopped (exit status {self._process.poll()})")
            self._buffer += chunk

    def _event(self, message: dict) -> None:
        self.events.append(message)
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            described = details.get("exception", {}).get("description") or details.get("text", "exception")
            self.errors.append(f"{described} ({details.get('url', '')}:{details.get('lineNumber', 0) + 1})")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console." + params["type"] + ": " + " ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.errors.append(f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}".strip())

    # -- what a caller does with the page
    def open(self, url: str, ready: str | None = None, timeout: float | None = None) -> None:
        """Load ``url`` and wait for its load event and, where given, until the expression ``ready`` is true.
        ``errors`` and ``events`` start anew: they are this page's."""
        self.errors, self.events = [], []
        self.call("Page.navigate", url=url)
        self._until(lambda m: m.get("method") == "Page.loadEventFired" or self._event(m), timeout or self.timeout,
                    f"loading {url}")
        if ready is not None:
            self.wait_for(ready, timeout)

    def wait_for(self, expression: str, timeout: float | None = None) -> Any:
        """Poll ``expression`` until it is truthy (or an error the page reported makes waiting pointless)."""
        end = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if self.errors:
                raise GraphError(f"the page reported an error before {expression} held: {self.errors[0]}")
            if time.monotonic() > end:
                raise GraphError(f"the page did not get to {expression} in {timeout or self.timeout:g} s")
            time.sleep(0.05)

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page (JSON-able values come back as Python values)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise GraphError(f"{expression}: {details.get('exception', {}).get('description', details.get('text'))}")
        return result.get("result", {}).get("value")

    def resize(self, width: int, height: int, scale: float = 1.0) -> None:
        self.call("Emulation.setDeviceMetricsOverride", width=int(width), height=int(height),
                  deviceScaleFactor=scale, mobile=False)

    def screenshot(self, path: str | Path | None = None) -> bytes:
        """The page's viewport as a PNG (written to ``path`` where given)."""
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        if path is not None:
            Path(path).write_bytes(png)
        return png
