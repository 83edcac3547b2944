"""Headless Chromium over the DevTools protocol (pipe, stdlib only): email previews and checks."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Problem

# The flags every run uses: no sandbox (containers run as root), nothing that phones home.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--force-color-profile=srgb",
         "--remote-debugging-pipe")
# With offline=True no host name resolves except 127.0.0.1: tests make no outside traffic.
OFFLINE_FLAG = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Chromium reads protocol messages on fd 3 and writes on fd 4, each ending in a NUL byte
# (components/devtools/devtools_pipe/devtools_pipe.h).
READ_FD, WRITE_FD = 3, 4


class BrowserError(Exception):
    """Chromium could not be started, answered with an error, or took too long."""


def find_chromium() -> str | None:
    """$BRIEFING_CHROMIUM, else the first Chromium or Chrome on PATH."""
    chosen = os.environ.get("BRIEFING_CHROMIUM")
    if chosen:
        return chosen
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium with a fresh profile, driven over --remote-debugging-pipe."""

    def __init__(self, executable: str | None = None, *, offline: bool = False,
                 timeout: float = 30.0, profile_parent: Path | None = None) -> None:
        self.executable = executable or find_chromium()
        if not self.executable:
            raise BrowserError("Chromium was not found; install it (Debian: apt install "
                               "chromium) or set BRIEFING_CHROMIUM to its path")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="briefing-chromium-", dir=profile_parent)
        self._buffer = b""
        self._events: list[dict] = []
        self._next_id = 0
        command = [self.executable, *FLAGS, f"--user-data-dir={self.profile}"]
        if offline:
            command.append(OFFLINE_FLAG)
        # Our pipes are made before Popen, so they hold the lowest free descriptors and
        # subprocess's own error pipe can never be 3 or 4. Copies above 10 are moved to 3 and 4
        # in the child, so moving one cannot clobber the other.
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD_CLOEXEC, 10)
        high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD_CLOEXEC, 10)

        def child_fds() -> None:  # runs in the child between fork and exec
            os.dup2(high_r, READ_FD)   # dup2 makes the copies inheritable
            os.dup2(high_w, WRITE_FD)

        # Chromium's stderr is noisy; it is kept only to explain a failed start.
        # It stays open while Chromium runs and is closed in close(), so no `with`.
        self._log = open(Path(self.profile) / "stderr.log", "wb")  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self._log, close_fds=False, preexec_fn=child_fds,
                start_new_session=True)  # its own process group: close() can end all its helpers
        except OSError as exc:
            for fd in (to_browser_r, self._to_browser, self._from_browser, from_browser_w):
                os.close(fd)
            self._log.close()
            shutil.rmtree(self.profile, ignore_errors=True)
            raise BrowserError(f"cannot start {self.executable}: {exc.strerror}") from None
        finally:
            os.close(high_r)
            os.close(high_w)
        os.close(to_browser_r)
        os.close(from_browser_w)
        try:
            self.call("Browser.getVersion")
        except (BrowserError, TimeoutError) as exc:
            self.process.kill()  # so its last words are in the log before it is read
            self.process.wait(timeout=5)
            last = self._last_log_line()
            self.close()
            raise BrowserError(f"{self.executable} did not start: {last or exc}") from None

    def _last_log_line(self) -> str:
        """The last thing Chromium wrote to stderr (why it could not start, usually)."""
        try:
            text = (Path(self.profile) / "stderr.log").read_bytes().decode("utf-8", "replace")
        except OSError:
            return ""
        return next((line.strip()[:200] for line in reversed(text.splitlines()) if line.strip()),
                    "")

    # -- the protocol ------------------------------------------------------------------------

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        try:
            while data:
                data = data[os.write(self._to_browser, data):]
        except OSError as exc:
            raise BrowserError(f"Chromium closed the DevTools pipe ({exc.strerror})") from None
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read(deadline, method)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message', 'failed')}")
                return reply.get("result", {})
            if "method" in reply:
                self._events.append(reply)

    def wait_for(self, event: str, session: str | None = None, timeout: float | None = None
                 ) -> dict | None:
        """The next event of that name (None on timeout: a slow image must not stop a preview)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for index, message in enumerate(self._events):
                if message["method"] == event and message.get("sessionId") == session:
                    del self._events[index]
                    return message.get("params", {})
            try:
                message = self._read(deadline, event)
            except TimeoutError:
                return None
            if "method" in message:
                self._events.append(message)

    def _read(self, deadline: float, waiting_for: str) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"Chromium did not answer {waiting_for} in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium exited unexpectedly")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def _call(self, *args, **kwargs) -> dict:
        try:
            return self.call(*args, **kwargs)
        except TimeoutError as exc:
            raise BrowserError(str(exc)) from None

    # -- pages -------------------------------------------------------------------------------

    def new_page(self) -> Page:
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self._call("Target.attachToTarget",
                             {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Runtime.enable")
        return page

    def close(self) -> None:
        """Ask Chromium to quit, then make sure its whole process group is gone."""
        if getattr(self, "process", None) is not None and self.process.poll() is None:
            with contextlib.suppress(BrowserError, TimeoutError, OSError):
                self.call("Browser.close", timeout=5)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if getattr(self, "_log", None) is not None:
            self._log.close()
        for fd in ("_to_browser", "_from_browser"):
            value = getattr(self, fd, None)
            if value is not None:
                with contextlib.suppress(OSError):
                    os.close(value)
                setattr(self, fd, None)
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Page:
    """One tab, addressed through its flat session id."""

    browser: Browser
    session: str

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.browser._call(method, params, self.session)

    def viewport(self, width: int, height: int = 800, mobile: bool = False) -> None:
        # mobile=True honours <meta name="viewport">, as a phone's mail app does.
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def colour_scheme(self, dark: bool) -> None:
        self.call("Emulation.setEmulatedMedia", {"features": [
            {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})

    def open(self, url: str, timeout: float = 20.0) -> None:
        """Navigate and wait for the load event (or give up on slow images after `timeout`)."""
        self.browser._events.clear()
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise BrowserError(f"cannot open {url}: {result['errorText']}")
        if self.browser.wait_for("Page.loadEventFired", self.session, timeout) is None:
            self.call("Page.stopLoading")

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise BrowserError(f"script failed: {text}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        """A PNG of the whole page, not just the viewport."""
        import base64
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        width = self.evaluate("window.innerWidth")
        clip = {"x": 0, "y": 0, "width": width, "height": max(1, int(size["height"] + 0.5)),
                "scale": 1}
        data = self.call("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                    "captureBeyondViewport": True})["data"]
        return base64.b64decode(data)


# -- email previews --------------------------------------------------------------------------

@dataclass(frozen=True)
class View:
    width: int
    dark: bool

    @property
    def name(self) -> str:
        return f"{'dark' if self.dark else 'light'}-{self.width}"


# A 375 px phone (iPhone SE to 15 mini) and the 600 px desktop column, each light and dark.
VIEWS = (View(375, False), View(375, True), View(600, False), View(600, True))

# What the checks and tests read from the rendered page. Colours come back as computed
# rgb() strings; a text's background is the first opaque background up its ancestors.
MEASURE = r"""(() => {
  const visible = (el) => {
    const style = getComputedStyle(el), box = el.getBoundingClientRect();
    return style.visibility !== 'hidden' && style.display !== 'none' && +style.opacity !== 0
      && box.width > 0 && box.height > 0;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (c && c !== 'transparent' && !/^rgba\(.*, 0\)$/.test(c)) return c;
    }
    return getComputedStyle(document.documentElement).backgroundColor;
  };
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, width: r.width, height: r.height}; };
  const headings = [...document.querySelectorAll('h1, h2, h3')].map((el) => ({
    tag: el.tagName.toLowerCase(), text: el.textContent.trim(), visible: visible(el),
    box: box(el), color: getComputedStyle(el).color, background: background(el)}));
  const links = [...document.querySelectorAll('a[href]')].map((el) => ({
    text: el.textContent.trim(), href: el.getAttribute('href'), visible: visible(el),
    color: getComputedStyle(el).color, background: background(el)}));
  const images = [...document.images].map((el) => ({src: el.getAttribute('src'),
    alt: el.getAttribute('alt'), loaded: el.complete && el.naturalWidth > 0,
    visible: visible(el)}));
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!node.textContent.trim() || !visible(el)) continue;
    let hidden = false;  // the preheader sits in a display:none block
    for (let p = el; p; p = p.parentElement) if (!visible(p) && p !== document.body) hidden = true;
    if (hidden) continue;
    const style = getComputedStyle(el);
    texts.push({text: node.textContent.trim().slice(0, 60), tag: el.tagName.toLowerCase(),
      fontSize: parseFloat(style.fontSize), color: style.color, background: background(el),
      right: box(el).right});
  }
  // A chart label whose word spans two lines was broken inside the word.
  const broken = [];
  for (const cell of document.querySelectorAll('td.chart-label')) {
    const node = cell.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE) continue;
    const text = node.textContent;
    for (const match of text.matchAll(/\S+/g)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      if (tops.size > 1) { broken.push({label: text.trim(), word: match[0]}); break; }
    }
  }
  return {innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth,
    bodyScrollWidth: document.body.scrollWidth,
    pageBackground: background(document.body.firstElementChild || document.body),
    headings, links, images, texts, brokenLabels: broken};
})()"""


@dataclass
class Capture:
    """One view of the email: its screenshot and what was measured in it."""

    view: View
    png: bytes
    metrics: dict = field(default_factory=dict)

    # Compared with the device width, not innerWidth: a phone zooms out to fit a page that is
    # too wide, and innerWidth grows with it.
    @property
    def scrolls_sideways(self) -> bool:
        m = self.metrics
        return max(m["scrollWidth"], m["bodyScrollWidth"], m["innerWidth"]) > self.view.width

    @property
    def hidden_headlines(self) -> list[str]:
        width = self.view.width
        return [h["text"] for h in self.metrics["headings"]
                if not h["visible"] or h["box"]["left"] < 0 or h["box"]["right"] > width + 0.5]


def capture(html: str, views: tuple[View, ...] = VIEWS, *, offline: bool = False,
            screenshots: bool = True, timeout: float = 60.0,
            profile_parent: Path | None = None) -> list[Capture]:
    """Open the email in headless Chromium once per width; measure and shoot light and dark."""
    with Browser(offline=offline, timeout=timeout, profile_parent=profile_parent) as browser:
        return capture_in(browser, html, views, screenshots)


def capture_in(browser: Browser, html: str, views: tuple[View, ...] = VIEWS,
               screenshots: bool = True) -> list[Capture]:
    """capture(), in a browser already running."""
    captures = []
    page_file = Path(browser.profile) / "email.html"
    page_file.write_text(html, encoding="utf-8")
    page = browser.new_page()
    for width in dict.fromkeys(v.width for v in views):
        page.viewport(width, mobile=width < 600)
        page.colour_scheme(False)
        page.open(page_file.as_uri())
        for view in (v for v in views if v.width == width):
            page.colour_scheme(view.dark)
            metrics = page.evaluate(MEASURE)
            png = page.screenshot() if screenshots else b""
            captures.append(Capture(view, png, metrics))
    return captures


def preview_problems(captures: list[Capture], where: str) -> list[Problem]:
    """Warnings for what a reader would see go wrong: sideways scrolling, headlines cut off."""
    problems = []
    for c in captures:
        if c.scrolls_sideways:
            m = c.metrics
            problems.append(Problem(where, 0, 0, f"at {c.view.width} px ({c.view.name}) the email "
                                    f"is {max(m['scrollWidth'], m['bodyScrollWidth'])} px wide and "
                                    "scrolls sideways", severity="warning", rule="preview-width"))
        for text in c.hidden_headlines:
            problems.append(Problem(where, 0, 0, f"at {c.view.width} px ({c.view.name}) the "
                                    f"heading '{text[:60]}' is not fully visible",
                                    severity="warning", rule="preview-heading"))
        if c.view.dark:  # the layout is the same in both palettes: say it once per width
            continue
        for broken in c.metrics.get("brokenLabels", []):
            problems.append(Problem(where, 0, 0, f"at {c.view.width} px the chart label "
                                    f"'{broken['label'][:60]}' breaks inside the word "
                                    f"'{broken['word'][:60]}'", severity="warning",
                                    rule="preview-label",
                                    hint="shorten the label or the word"))
    return problems
