"""The email in a real headless Chromium: phone and desktop widths, light and dark, screenshots."""

from __future__ import annotations

import functools
import http.server
import re
import struct
import threading
import zlib
from pathlib import Path

import pytest

from briefing.editorial.browser import VIEWS, View, capture
from briefing.render.colours import contrast, parse
from conftest import BRIEF, CONFIG, ISSUE, make_project

OUT = "out/2026-W07"
LONG_WORD = "Supercalifragilisticexpialidocious" * 3  # 102 letters, no break opportunity

PALETTE = {
    False: {"background": "#fdfcf8", "text": "#222222", "accent": "#0b6e4f"},
    True: {"background": "#101412", "text": "#eeeeee", "accent": "#7fd1b1"},
}


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour PNG, written with zlib alone."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def logo_server(tmp_path_factory):
    """A real HTTP server on 127.0.0.1 that serves the logo."""
    root = tmp_path_factory.mktemp("www")
    (root / "logo.png").write_bytes(png(140, 40, (11, 110, 79)))
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def built(tmp_path_factory, logo_server):
    """A branded issue with a logo, a chart, a long headline and an unbreakable word."""
    config = CONFIG + f"""\
brand:
  accent: "#0b6e4f"
  text: "#222222"
  background: "#fdfcf8"
  muted: "#5a5a5a"
  dark_accent: "#7fd1b1"
  dark_text: "#eeeeee"
  dark_background: "#101412"
  dark_muted: "#b0b8b4"
  logo_url: {logo_server}/logo.png
  logo_alt: Test Briefing
"""
    long_brief = BRIEF.replace(
        "First headline", "A very long headline that has to wrap over several lines on a phone "
        "without ever being cut off at the edge of the screen").replace(
        "A summary with", f"A summary with {LONG_WORD} and") + """\
    stat:
      - {label: Studios and the largest streaming platforms, value: 1250000, unit: viewers}
      - {label: Independents, value: 10, unit: viewers}
"""
    root = tmp_path_factory.mktemp("news")
    project = make_project(root, config=config, briefs={"industry.yaml": long_brief,
                                                        "ethics.yaml": BRIEF})
    result = project.cli("build")
    assert result.code == 0, result.err
    html = (root / OUT / "email.html").read_text(encoding="utf-8")
    profiles = tmp_path_factory.mktemp("chromium")
    captures = {c.view: c for c in capture(html, offline=True, profile_parent=profiles)}
    return project, html, captures


def rgb(colour: str) -> tuple[int, int, int]:
    return parse(colour)


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_no_sideways_scrolling_and_every_headline_visible(built, view: View) -> None:
    _, _, captures = built
    c = captures[view]
    assert c.metrics["innerWidth"] == view.width
    assert not c.scrolls_sideways, (c.metrics["scrollWidth"], c.metrics["bodyScrollWidth"])
    headings = c.metrics["headings"]
    assert [h["tag"] for h in headings] == ["h1", "h2", "h3", "h2", "h3"]
    assert c.hidden_headlines == []
    for h in headings:
        assert h["box"]["height"] > 0 and h["box"]["left"] >= 0 and h["box"]["right"] <= view.width
    # every text stays inside the viewport, the unbreakable word too
    assert all(t["right"] <= view.width + 0.5 for t in c.metrics["texts"])


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_palette_is_applied(built, view: View) -> None:
    _, _, captures = built
    m, colours = captures[view].metrics, PALETTE[view.dark]
    assert rgb(m["pageBackground"]) == rgb(colours["background"])
    for h in m["headings"]:
        assert rgb(h["color"]) == rgb(colours["text"]), h
        assert rgb(h["background"]) == rgb(colours["background"]), h
    for link in m["links"]:
        assert rgb(link["color"]) == rgb(colours["accent"]), link
    body = next(t for t in m["texts"] if t["text"].startswith("A summary with"))
    assert rgb(body["color"]) == rgb(colours["text"])


@pytest.mark.parametrize("view", VIEWS, ids=lambda v: v.name)
def test_every_visible_text_is_readable(built, view: View) -> None:
    """At least 14 px and 4.5:1 against what is really behind it, in both colour schemes."""
    _, _, captures = built
    texts = captures[view].metrics["texts"]
    assert len(texts) > 30
    for t in texts:
        assert t["fontSize"] >= 14, t
        assert contrast(rgb(t["color"]), rgb(t["background"])) >= 4.5, t


def test_logo_loads_with_alt_text(built) -> None:
    _, _, captures = built
    for c in captures.values():
        assert [(i["alt"], i["loaded"], i["visible"]) for i in c.metrics["images"]] == [
            ("Test Briefing", True, True)]


def test_chart_values_are_printed(built) -> None:
    _, _, captures = built
    words = [t["text"] for t in captures[View(375, False)].metrics["texts"]]
    assert "1,250,000 viewers" in words and "10 viewers" in words


def test_design_survives_clients_that_strip_style_blocks(built, tmp_path: Path) -> None:
    """Without any <style> element, every text keeps its colour and size (600 px, light)."""
    _, html, captures = built
    stripped = re.sub(r"<style\b.*?</style>", "", html, flags=re.S)
    assert "<style" not in stripped
    bare = capture(stripped, (View(600, False),), offline=True, screenshots=False,
                   profile_parent=tmp_path)[0]
    full = captures[View(600, False)]

    def looks(c):
        return [(t["text"], t["color"], t["fontSize"]) for t in c.metrics["texts"]]
    assert looks(bare) == looks(full)
    assert [h["color"] for h in bare.metrics["headings"]] == \
        [h["color"] for h in full.metrics["headings"]]
    assert not bare.scrolls_sideways


def test_build_screenshots_are_private_and_out_stays_public(tmp_path: Path) -> None:
    """The email in four views, the web page and the preview page, as PNGs in .briefing/:
    screenshots differ by machine and weigh megabytes, and out/ is published as it is."""
    project = make_project(tmp_path / "news", issue=ISSUE)
    assert project.cli("build").code == 0
    (project.root / OUT / "preview").mkdir()  # what an earlier version left there
    (project.root / OUT / "preview/light-375.png").write_bytes(png(1, 1, (0, 0, 0)))
    result = project.cli("build", "--screenshots", timeout=180)
    assert result.code == 0, result.err
    assert result.err == ""
    assert ("screenshots 2026-W07: light-375.png, dark-375.png, light-600.png, dark-600.png, "
            "web-light-1280.png, web-dark-375.png, preview-1400.png -> "
            ".briefing/screenshots/2026-W07/") in result.out.splitlines()
    shots = project.root / ".briefing/screenshots/2026-W07"
    for name, width in (("light-375", 375), ("dark-375", 375), ("light-600", 600),
                        ("dark-600", 600), ("web-light-1280", 1280), ("web-dark-375", 375),
                        ("preview-1400", 1400)):
        w, h = png_size((shots / f"{name}.png").read_bytes())
        assert w == width and h >= 800, name
    assert sorted(p.name for p in shots.iterdir()) == sorted(
        p.name for p in shots.iterdir() if p.name.endswith(".png"))
    assert (project.root / ".briefing/screenshots").stat().st_mode & 0o777 == 0o700
    assert not (project.root / OUT / "preview").exists()
    assert not [p for p in (project.root / "out").rglob("*.png")]


def test_screenshots_without_chromium_fail_cleanly(project) -> None:
    result = project.cli("build", "--screenshots",
                         env={"BRIEFING_CHROMIUM": "/nonexistent/chromium"})
    assert result.code == 1
    assert result.err == (".briefing/screenshots/2026-W07: error: cannot take screenshots: "
                          "cannot start /nonexistent/chromium: No such file or directory\n")
    assert "Traceback" not in result.err


def test_a_chromium_that_cannot_start_is_explained(project, tmp_path: Path) -> None:
    broken = tmp_path / "chromium"
    broken.write_text("#!/bin/sh\necho 'error while loading shared libraries: libnss3.so' >&2\n"
                      "exit 127\n", encoding="utf-8")
    broken.chmod(0o755)
    result = project.cli("build", "--screenshots", env={"BRIEFING_CHROMIUM": str(broken)})
    assert result.code == 1
    assert result.err == (f".briefing/screenshots/2026-W07: error: cannot take screenshots: "
                          f"{broken} did not start: error while loading shared libraries: "
                          "libnss3.so\n")
    assert not (project.root / ".briefing/screenshots").exists()


def test_chart_labels_break_between_words_and_a_word_too_long_is_named(tmp_path: Path) -> None:
    """At 375 px a long label wraps between its words; a single word wider than the label
    column has to break inside, and `build --screenshots` says so."""
    brief = BRIEF + """    stat:
      - {label: People in the United States of America who answered, value: 35, unit: "%"}
      - {label: Pneumonoultramicroscopicsilicovolcanoconiosissufferers, value: 12, unit: "%"}
"""
    project = make_project(tmp_path / "news", briefs={"industry.yaml": brief})
    result = project.cli("build", "--screenshots", timeout=180)
    assert result.code == 0, result.err
    assert result.err.splitlines() == [
        "out/2026-W07/email.html: warning: at 375 px the chart label "
        "'Pneumonoultramicroscopicsilicovolcanoconiosissufferers' breaks inside the word "
        "'Pneumonoultramicroscopicsilicovolcanoconiosissufferers' (shorten the label or the "
        "word) [preview-label]"]
