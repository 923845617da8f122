"""A real headless Chromium for the tests of every HTML report cosim writes.

Use the session fixture ``browser`` (tests/conftest.py) and :func:`check_page`::

    def test_my_report_renders(browser, tmp_path):
        page = check_page(browser, tmp_path / "report.html")   # asserts inside
        assert page.title.startswith("cosim calibrate")

:func:`check_page` loads the file, waits for it and for every image to decode, and fails
the test on a console error, an uncaught exception, a failed resource load or an image
that did not load; it keeps a full-page screenshot beside the page (``<page>.png``, in
the test's tmp dir). One browser serves the whole session (a tab per page).

The browser speaks the Chrome DevTools Protocol over a pipe (``--remote-debugging-pipe``:
JSON messages ended by NUL on file descriptors 3 and 4), so no Python package beyond the
standard library is needed. Chromium is looked up as ``$COSIM_CHROMIUM``, ``chromium``,
``chromium-browser``, ``google-chrome``; where none is found, :func:`find_or_install`
installs Debian's ``chromium`` with apt-get when running as root (``python3 dev.py
test`` does the same), and otherwise says why it cannot.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty, Queue

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--window-size=1280,900", "--remote-debugging-pipe")
NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT = 60.0  # [s] per protocol command (a first start can be slow on a busy machine)


def find_or_install() -> tuple[str | None, str]:
    """``(path, "")`` of a Chromium, installed with apt-get if missing and possible; or
    ``(None, why not)``."""
    found = _find()
    if found:
        return found, ""
    if os.environ.get("COSIM_NO_INSTALL"):
        return None, "Chromium is not installed and COSIM_NO_INSTALL forbids installing it"
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, ("Chromium is not installed, and installing it needs root and apt-get "
                      "(apt-get install chromium), or set COSIM_CHROMIUM to a Chrome binary")
    why = ""
    for commands in ([["apt-get", "install", "-y", "chromium"]],
                     [["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]]):
        for cmd in commands:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900,
                                  env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            if proc.returncode != 0:
                why = f"{' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}"
                break
        found = _find()
        if found:
            return found, ""
    return None, f"Chromium could not be installed ({why or 'not found after apt-get'})"


def _find() -> str | None:
    own = os.environ.get("COSIM_CHROMIUM")
    if own and Path(own).is_file():
        return own
    return next((p for p in map(shutil.which, NAMES) if p), None)


@dataclass
class Page:
    """What a loaded page showed."""

    url: str
    title: str
    images: list[dict]
    errors: list[str] = field(default_factory=list)
    screenshot: Path | None = None


class Browser:
    """One headless Chromium, driven over the DevTools pipe."""

    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="cosim-chromium-")
        to_chrome, chrome_in = os.pipe()
        chrome_out, from_chrome = os.pipe()
        # the browser reads commands on fd 3 and writes replies on fd 4: move the pipe
        # ends above both first, so that the redirections cannot clobber each other
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_chrome, from_chrome)]
        os.close(to_chrome)
        os.close(from_chrome)
        shell = f'exec "$0" "$@" 3<&{high[0]} 4>&{high[1]} {high[0]}<&- {high[1]}>&-'
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [shutil.which("bash") or "bash", "-c", shell, executable, *FLAGS,
             f"--user-data-dir={self.profile}",
             "about:blank"],
            pass_fds=tuple(high), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.log)
        for fd in high:
            os.close(fd)
        self._out = os.fdopen(chrome_in, "wb", buffering=0)
        self._in = os.fdopen(chrome_out, "rb", buffering=0)
        self._ids = itertools.count(1)
        self._replies: dict[int, Queue] = {}
        self._events: dict[str, Queue] = {}  # by session id
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.version = self.send("Browser.getVersion")["product"]

    # -- the protocol ------------------------------------------------------------------

    def _read(self) -> None:
        buffer = b""
        while True:
            chunk = self._in.read(65536)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    self._replies.setdefault(message["id"], Queue()).put(message)
                else:
                    session = message.get("sessionId", "")
                    with self._lock:
                        queue = self._events.setdefault(session, Queue())
                    queue.put(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None
             ) -> dict:
        """A command's result; raises RuntimeError with the browser's error."""
        n = next(self._ids)
        queue = self._replies.setdefault(n, Queue())
        message = {"id": n, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            self._out.write(json.dumps(message).encode() + b"\0")
        except OSError as err:
            raise RuntimeError(f"Chromium is gone ({err}); its log ends: {self.log_tail()}"
                               ) from None
        try:
            reply = queue.get(timeout=TIMEOUT)
        except Empty:
            raise RuntimeError(f"Chromium did not answer {method} within {TIMEOUT:g} s"
                               ) from None
        finally:
            self._replies.pop(n, None)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def log_tail(self, size: int = 2000) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-size:]

    def _event_queue(self, session: str) -> Queue:
        with self._lock:
            return self._events.setdefault(session, Queue())

    # -- pages -------------------------------------------------------------------------

    def load(self, path: Path, screenshot: Path | None = None) -> Page:
        """Open ``path`` in a new tab, wait for it and its images, return what it showed."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        events = self._event_queue(session)
        try:
            for domain in ("Runtime", "Log", "Page"):
                self.send(f"{domain}.enable", session=session)
            url = Path(path).resolve().as_uri()
            self.send("Page.navigate", {"url": url}, session=session)
            errors = self._wait_for_load(events)
            images = self._evaluate(session, """
                Promise.all(Array.from(document.images).map(img => img.decode().then(
                    () => true, () => false))).then(() => Array.from(document.images).map(
                    img => ({src: img.src.slice(0, 60), complete: img.complete,
                             width: img.naturalWidth, height: img.naturalHeight})))""")
            title = self._evaluate(session, "document.title")
            errors += self._drain(events)
            shot = self._screenshot(session, screenshot) if screenshot else None
            return Page(url, title, images, errors, shot)
        finally:
            self.send("Target.closeTarget", {"targetId": target})

    def _wait_for_load(self, events: Queue) -> list[str]:
        errors: list[str] = []
        while True:
            try:
                message = events.get(timeout=TIMEOUT)
            except Empty:
                raise RuntimeError(f"the page did not load within {TIMEOUT:g} s") from None
            if message.get("method") == "Page.loadEventFired":
                return errors
            errors += _errors(message)

    def _drain(self, events: Queue) -> list[str]:
        errors = []
        while True:
            try:
                errors += _errors(events.get_nowait())
            except Empty:
                return errors

    def _evaluate(self, session: str, expression: str):
        result = self.send("Runtime.evaluate", {"expression": expression,
                                                "awaitPromise": True, "returnByValue": True},
                           session=session)
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluating on the page: {result['exceptionDetails']}")
        return result["result"].get("value")

    def _screenshot(self, session: str, out: Path) -> Path:
        size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": max(1, size["width"]),
                "height": min(max(1, size["height"]), 16000), "scale": 1}
        data = self.send("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                    "captureBeyondViewport": True},
                         session=session)["data"]
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for f in (self._out, self._in):
            with contextlib.suppress(OSError):
                f.close()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _errors(message: dict) -> list[str]:
    """Console errors, uncaught exceptions and failed loads in a protocol event."""
    method, params = message.get("method"), message.get("params", {})
    if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
        args = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
        return [f"console.{params['type']}: {args}"]
    if method == "Runtime.exceptionThrown":
        details = params.get("exceptionDetails", {})
        text = details.get("exception", {}).get("description") or details.get("text", "")
        return [f"uncaught exception: {text}"]
    if method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
        entry = params["entry"]
        return [f"{entry.get('source', 'log')}: {entry.get('text', '')} {entry.get('url', '')}"
                .rstrip()]
    return []


def check_page(browser: Browser, path: str | Path, min_images: int = 0) -> Page:
    """Load an HTML report and assert it shows cleanly: no console error, no uncaught
    exception, no failed load, every image decoded with a size, at least ``min_images``
    of them. A full-page screenshot is kept as ``<path>.png``."""
    path = Path(path)
    page = browser.load(path, screenshot=path.with_suffix(path.suffix + ".png"))
    assert page.errors == [], f"{path.name}: {page.errors}"
    broken = [i for i in page.images if not (i["complete"] and i["width"] > 0)]
    assert broken == [], f"{path.name}: images that did not load: {broken}"
    assert len(page.images) >= min_images, (path.name, len(page.images), min_images)
    assert page.screenshot is not None and page.screenshot.read_bytes()[:4] == b"\x89PNG"
    return page
