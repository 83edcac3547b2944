"""The HTML email through the real CLI: inline styles, dark mode, accessibility, size, charts,
brand validation and template overrides."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import BRIEF, CONFIG, ISSUE, REPO, make_project

OUT = "out/2026-W07"

BRAND = """\
brand:
  accent: "#0b6e4f"
  text: "#222"
  background: "#fdfcf8"
  muted: "#5a5a5a"
  dark_accent: "#7fd1b1"
  dark_text: "#eeeeee"
  dark_background: "#101412"
  dark_muted: "#b0b8b4"
  font: "Georgia, 'Times New Roman', serif"
  logo_url: https://example.org/logo.png
  logo_alt: Test Briefing logo
"""
BRANDED = CONFIG + BRAND

STAT_BRIEF = BRIEF + """\
    stat:
      - {label: Studios, value: 40, unit: "%"}
      - {label: Independents, value: 10, unit: "%"}
      - {label: Streamers, value: 0}
"""

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Page(HTMLParser):
    """Every element with its attributes and text, and every visible text with its font size."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.texts: list[tuple[str, float]] = []  # (text, effective font size in px)
        self._stack: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs) -> None:
        element = {"tag": tag, "attrs": dict(attrs), "text": []}
        self.elements.append(element)
        if tag not in VOID:
            self._stack.append(element)

    def handle_endtag(self, tag) -> None:
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index]["tag"] == tag:
                del self._stack[index:]
                return

    def handle_data(self, data) -> None:
        for element in self._stack:
            element["text"].append(data)
        if not data.strip() or any(t in ("head", "style", "title") for t in self.open_tags):
            return
        styles = [style(e) for e in self._stack]
        if any(s.get("display") == "none" for s in styles):  # the hidden preheader
            return
        size = next((s["font-size"] for s in reversed(styles) if "font-size" in s), "16px")
        self.texts.append((data.strip(), float(size.removesuffix("px"))))

    @property
    def open_tags(self) -> list[str]:
        return [e["tag"] for e in self._stack]

    def find(self, *tags: str) -> list[dict]:
        return [e for e in self.elements if e["tag"] in tags]


def style(element: dict) -> dict[str, str]:
    """The inline style attribute as a dict."""
    out = {}
    for part in (element["attrs"].get("style") or "").split(";"):
        if ":" in part:
            key, value = part.split(":", 1)
            out[key.strip().lower()] = value.strip()
    return out


def text(element: dict) -> str:
    return " ".join("".join(element["text"]).split())


def build(project) -> str:
    result = project.cli("build")
    assert result.code == 0, result.err
    return (project.root / OUT / "email.html").read_text(encoding="utf-8")


def assert_fails(result, expected: str) -> None:
    assert result.code == 1, result
    assert result.err == expected + "\n", result.err
    assert "Traceback" not in result.err + result.out


# -- inline styles -----------------------------------------------------------------------------

def test_every_link_and_heading_carries_its_colour_inline(factory) -> None:
    page = Page(build(factory(config=BRANDED)))
    links = page.find("a")
    # intro link, summary links, sources, contents, unsubscribe and archive
    assert len(links) >= 9
    for link in links:
        assert style(link).get("color") == "#0b6e4f", link
    headings = page.find("h1", "h2", "h3")
    assert [h["tag"] for h in headings] == ["h1", "h2", "h3", "h2", "h3"]
    for heading in headings:
        assert style(heading).get("color") == "#222", heading
    # Body text inherits from its section's inline style, never from <style> alone.
    for paragraph in page.find("p"):
        if text(paragraph) and not style(paragraph).get("color"):
            assert any(style(e).get("color") == "#222" and
                       "Georgia" in style(e).get("font-family", "")
                       for e in page.elements if e["tag"] == "div" and
                       text(paragraph) in text(e)), paragraph


def test_summary_links_carry_the_accent_colour(project) -> None:
    html = build(project)
    assert '<a href="https://example.org/a" style="color:#1f5fbf">linked source</a>' in html
    assert '<a href="https://example.org/intro" style="color:#1f5fbf">link</a>' in html


def test_no_external_fonts_and_no_comments(project) -> None:
    html = build(project)
    assert "fonts.googleapis.com" not in html and "@import" not in html
    # Only Outlook's conditional comments are left.
    for comment in re.findall(r"<!--(.*?)-->", html, re.S):
        assert comment.startswith(("[if", "<![endif]")), comment[:60]


# -- dark mode ---------------------------------------------------------------------------------

def test_dark_mode_meta_and_palette(factory) -> None:
    html = build(factory(config=BRANDED))
    head = html[:html.index("<body")]
    assert '<meta name="color-scheme" content="light dark"' in head
    assert '<meta name="supported-color-schemes" content="light dark"' in head
    dark = head[head.index("@media (prefers-color-scheme:dark){"):]
    dark = dark[:dark.index("\n}")]
    assert "body,.dm-bg{background-color:#101412!important}" in dark
    assert ".dm-t h1,.dm-t h2,.dm-t h3,.dm-t p,.dm-t td{color:#eeeeee!important}" in dark
    assert ".dm-t a,.dm-t .dm-a{color:#7fd1b1!important}" in dark
    assert ".dm-t .dm-m{color:#b0b8b4!important}" in dark


def test_contrast_maths() -> None:
    from briefing.render.colours import contrast, mix, parse, passing
    assert contrast("#000", "#fff") == pytest.approx(21)
    assert contrast("#fff", "#fff") == pytest.approx(1)
    assert contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # the AA grey
    assert contrast("#777777", "#ffffff") < 4.5
    assert contrast("#1f5fbf", "#fff") == contrast("#fff", "#1f5fbf")
    assert parse("rgb(23, 25, 28)") == parse("#17191c") == (23, 25, 28)
    assert parse("#abc") == (0xaa, 0xbb, 0xcc)
    assert mix("#000000", "#ffffff", 0.5) == "#808080"
    fixed = passing("#999999", "#ffffff")
    assert contrast(fixed, "#ffffff") >= 4.5 and fixed == "#767676"
    assert contrast(passing("#333333", "#101412"), "#101412") >= 4.5


@pytest.mark.parametrize("config", ["defaults", "sample", "branded"])
def test_brand_palettes_pass_wcag_aa_in_light_and_dark(tmp_path: Path, config: str) -> None:
    """Body text, headings and links, in both palettes, at least 4.5:1 on their background."""
    from briefing.content.validate import Project, load_config
    from briefing.render.colours import ratios
    root = REPO if config == "sample" else make_project(
        tmp_path / "p", config=BRANDED if config == "branded" else CONFIG).root
    brand = load_config(Project(root)).brand
    checked = {(p.foreground, p.background): r for p, r in ratios(brand)}
    for pair in [("text", "background"), ("accent", "background"), ("muted", "background"),
                 ("dark_text", "dark_background"), ("dark_accent", "dark_background"),
                 ("dark_muted", "dark_background")]:
        assert checked[pair] >= 4.5, (pair, checked[pair])


def test_brand_warnings_name_the_colour_its_line_and_a_fix(factory) -> None:
    from briefing.content.validate import Project, load_config
    from briefing.render.colours import brand_warnings
    config = CONFIG + 'brand:\n  accent: "#8ab4f8"\n  dark_background: "#555"\n'
    project = factory(config=config)
    warnings = brand_warnings(load_config(Project(project.root)), project.root)
    line = CONFIG.count("\n") + 2
    assert [w.format() for w in warnings] == [
        f"briefing.yaml:{line}:11: warning: brand colour accent #8ab4f8 on background #ffffff has "
        "a contrast of 2.1:1, below the 4.5:1 WCAG AA asks for links and the newsletter name "
        "(try accent: '#5c77a5') [brand-contrast]",
        # The dark colours are defaults: the warnings point at the background the editor chose.
        f"briefing.yaml:{line + 1}:20: warning: brand colour dark_accent #8ab4f8 on "
        "dark_background #555 has a contrast of 3.53:1, below the 4.5:1 WCAG AA asks for links "
        "in dark mode (try dark_accent: '#adcbfa') [brand-contrast]",
        f"briefing.yaml:{line + 1}:20: warning: brand colour dark_muted #a9b0b8 on "
        "dark_background #555 has a contrast of 3.4:1, below the 4.5:1 WCAG AA asks for "
        "secondary text in dark mode (try dark_muted: '#c5cacf') [brand-contrast]",
    ]
    assert brand_warnings(load_config(Project(REPO)), REPO) == []


# -- accessibility -----------------------------------------------------------------------------

def test_accessible_structure(factory) -> None:
    brief = BRIEF.replace("First headline", "Alpha") + """\
  - headline: Beta
    summary: Two.
    sources:
      - {url: "https://example.org/c", title: Article C, publisher: Example Times}
    stat:
      - {label: Share, value: 3}
  - headline: Gamma
    summary: Three.
    sources:
      - {url: "https://example.org/d", title: Article D, publisher: Example Times}
"""
    # The fixture's intro link says "link": editors' own link text is lint's business.
    issue = ISSUE.replace("[link]", "[the editors' notes]")
    project = factory(config=BRANDED, issue=issue,
                      briefs={"industry.yaml": brief, "ethics.yaml": BRIEF})
    html = build(project)
    page = Page(html)
    assert re.match(r'<!doctype html><html lang="en"', html)
    assert [(h["tag"], text(h)) for h in page.find("h1", "h2", "h3")] == [
        ("h1", "A test issue"), ("h2", "Industry"), ("h3", "Alpha"), ("h3", "Beta"),
        ("h3", "Gamma"), ("h2", "Ethics"), ("h3", "First headline")]
    assert [img["attrs"].get("alt") for img in page.find("img")] == ["Test Briefing logo"]
    # Every table, Outlook's conditional ones included, is layout: role="presentation".
    tables = re.findall(r"<table\b[^>]*>", html)
    assert len(tables) > 10 and all('role="presentation"' in t for t in tables)
    # Link text says where it goes: never empty, a bare URL or "click here".
    for link in page.find("a"):
        label = text(link)
        assert label and not re.match(r"https?://|www\.", label), link
        assert label.lower() not in ("click here", "here", "read more", "link", "more"), link
    assert "Article A" in [text(a) for a in page.find("a")]
    # Body text at least 14 px everywhere (the hidden preheader aside).
    small = [(t, size) for t, size in page.texts if size < 14]
    assert not small, small
    assert page.texts  # the check saw the text


def test_contents_links_reach_each_theme(project) -> None:
    page = Page(build(project))
    contents = [a for a in page.find("a") if a["attrs"]["href"].startswith("#")]
    assert [(a["attrs"]["href"], text(a)) for a in contents] == [
        ("#industry", "Industry"), ("#ethics", "Ethics")]
    assert [h["attrs"].get("id") for h in page.find("h2")] == ["industry", "ethics"]
    assert "· 1 item" in html_text(page)


def html_text(page: Page) -> str:
    return " ".join(text(e) for e in page.find("body"))


def test_header_and_footer(factory) -> None:
    html = build(factory(config=BRANDED))
    page = Page(html)
    words = html_text(page)
    for expected in ("Test Briefing", "A test newsletter", "A test issue",
                     "Friday 13 February 2026 · Issue 2026-W07",
                     "You are receiving Test Briefing because you subscribed to it.",
                     "1 Test Street, Testville"):
        assert expected in words, expected
    links = {text(a): a["attrs"]["href"] for a in page.find("a")}
    assert links["Unsubscribe"] == "https://example.org/u/ARCHIVE-COPY-NOT-A-TOKEN"
    assert links["Read past issues on the web"] == "https://example.org/archive/"
    assert "Article A · Example News, 10 Feb 2026" in words
    assert "10\u00a0Feb\u00a02026" in html  # no-break spaces: a date never wraps


@pytest.mark.parametrize("issue, expected", [
    (ISSUE, "Short preview text"),
    (ISSUE.replace("preheader: Short preview text\n", ""), "The editor's note with a link."),
    (ISSUE.replace("preheader: Short preview text\n", "").replace(
        "The editor's note with a [link](https://example.org/intro).", "word " * 60),
     "word " * 27 + "word…"),
])
def test_preheader(factory, issue: str, expected: str) -> None:
    page = Page(build(factory(issue=issue)))
    hidden = [e for e in page.find("div") if style(e).get("display") == "none"]
    assert len(hidden) == 1
    preview = text(hidden[0]).replace("\u034f", "").replace("\u200c", "")
    assert preview.split("\u00a0")[0].strip() == expected.strip()


# -- size --------------------------------------------------------------------------------------

WORDS = [
    "studio", "model", "video", "actors", "rights", "licence", "training", "footage",
    "union", "contract", "release", "audience", "festival", "director", "camera",
    "synthetic", "likeness", "consent", "market", "regulator", "court", "streaming",
]


def _words(seed: int, count: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(count)).capitalize()


def _item(n: int) -> str:
    """A realistic item: 60-word summary with an inline link, a why, two sources with long URLs,
    and a three-bar chart on every fourth item."""
    url = f"https://news{n % 7}.example.com/2026/02/{n:02d}/a-long-article-slug-about-ai-video-{n}"
    url2 = f"https://www.publisher{n % 5}.example.net/technology/story-{n}-with-a-descriptive-slug"
    date = f"2026-02-{n % 12 + 1:02d}"
    summary = (f"{_words(n, 14)}, [the report says]({url}). {_words(n + 1, 18)}. "
               f"{_words(n + 2, 16)}; {_words(n + 3, 12)}.")
    stat = ""
    if n % 4 == 0:
        stat = ("    stat:\n      - {label: Studios, value: 42, unit: \"%\"}\n"
                "      - {label: Independents, value: 27, unit: \"%\"}\n"
                "      - {label: Streamers, value: 18, unit: \"%\"}\n")
    return (f"  - headline: \"{_words(n, 9)} ({n})\"\n"
            f"    summary: >-\n      {summary}\n"
            f"    why: \"{_words(n + 4, 16)}.\"\n"
            f"    sources:\n"
            f"      - url: {url}\n        title: \"{_words(n + 5, 8)}\"\n"
            f"        publisher: News {n % 7}\n        date: {date}\n"
            f"      - url: {url2}\n        title: \"{_words(n + 6, 9)}\"\n"
            f"        publisher: Publisher {n % 5}\n        date: {date}\n" + stat)


def big_project(factory, items: int):
    half = items // 2
    return factory(briefs={
        "industry.yaml": "items:\n" + "".join(_item(i) for i in range(half)),
        "ethics.yaml": "items:\n" + "".join(_item(i) for i in range(half, items))})


def reported_size(out: str) -> float:
    return float(re.search(r"email\.html ([\d.]+) KB", out).group(1))


def test_a_40_item_issue_stays_under_gmails_clip_limit(factory) -> None:
    project = big_project(factory, 40)
    result = project.cli("build")
    assert result.code == 0, result.err
    assert "40 items" in result.out and "html-size" not in result.err
    size = (project.root / OUT / "email.html").stat().st_size
    assert size < 102 * 1024
    assert reported_size(result.out) == round(size / 1024, 1)
    check = project.cli("check")
    assert check.code == 0 and "html-size" not in check.err


def test_an_oversized_issue_warns_in_build_and_check(factory) -> None:
    project = big_project(factory, 64)
    result = project.cli("build")
    assert result.code == 0, result.err
    size = (project.root / OUT / "email.html").stat().st_size
    assert size > 102 * 1024
    warning = (f"out/2026-W07/email.html: warning: {size / 1024:.1f} KB is over Gmail's 102 KB "
               "clip limit; Gmail will hide the end of the email, unsubscribe link included "
               "(move items to the next issue or shorten summaries) [html-size]")
    assert warning in result.err.splitlines()
    check = project.cli("check")
    assert check.code == 0 and warning in check.err.splitlines()
    strict = project.cli("check", "--strict")
    assert strict.code == 1
    assert warning.replace(": warning: ", ": error: ") in strict.err.splitlines()


# -- charts ------------------------------------------------------------------------------------

def test_stat_is_a_bar_chart_of_table_cells_with_values(factory) -> None:
    project = factory(config=BRANDED, briefs={"industry.yaml": STAT_BRIEF})
    html = build(project)
    assert "<img" not in html.replace('<img alt="Test Briefing logo"', "") and "<svg" not in html
    rows = re.findall(r'<tr><td class="chart-label" colspan="2"[^>]*>([^<]+)</td></tr>\s*'
                      r'<tr><td><table role="presentation" '
                      r'width="100%" cellpadding="0" cellspacing="0"><tr>(.*?)</tr></table></td>'
                      r'<td [^>]*><b>([^<]+)</b></td></tr>', html)
    assert [(label, value) for label, _, value in rows] == [
        ("Studios", "40%"), ("Independents", "10%"), ("Streamers", "0")]
    bars = [re.findall(r'<td class="dm-(bar|track)"(?: width="(\d+)%")? height="14" '
                       r'bgcolor="(#[0-9a-f]+)"></td>', cells) for _, cells, _ in rows]
    assert bars == [
        [("bar", "100", "#0b6e4f")],
        [("bar", "25", "#0b6e4f"), ("track", "", "#d6e5dd")],
        [("track", "", "#d6e5dd")],
    ]
    digest = (project.root / OUT / "digest.txt").read_text(encoding="utf-8")
    assert "  Studios       " + "█" * 30 + " 40%" in digest
    assert "  Independents  " + "█" * 8 + " 10%" in digest


# -- brand validation --------------------------------------------------------------------------

@pytest.mark.parametrize("key, value, message", [
    ("accent", '"red;background:url(x)"',
     "'accent' 'red;background:url(x)' is not valid (write a hex colour: #rgb or #rrggbb, "
     "like #1f5fbf)"),
    ("dark_text", '"#12345"',
     "'dark_text' '#12345' is not valid (write a hex colour: #rgb or #rrggbb, like #1f5fbf)"),
    ("font", '"Arial; color: red"',
     "'font' 'Arial; color: red' is not valid (font names separated by commas)"),
    ("logo_url", "javascript:alert(1)",
     "'logo_url' must be an http(s) URL, not 'javascript:' (write the full https:// address)"),
])
def test_bad_brand_values_are_refused(factory, key: str, value: str, message: str) -> None:
    project = factory(config=CONFIG + f"brand:\n  {key}: {value}\n")
    line = CONFIG.count("\n") + 2
    expected = f"briefing.yaml:{line}:{len(key) + 5}: error: {message}\n1 error"
    assert_fails(project.cli("check"), expected)
    assert_fails(project.cli("build"), expected)
    assert not (project.root / "out").exists()


def test_brand_reaches_the_email(factory) -> None:
    html = build(factory(config=BRANDED))
    assert 'font-family:Georgia, &#39;Times New Roman&#39;, serif' in html
    assert '<body style="word-spacing:normal;background-color:#fdfcf8;">' in html
    assert 'src="https://example.org/logo.png"' in html


# -- template overrides ------------------------------------------------------------------------

MINIMAL = ("<mjml lang=\"{{ config.language }}\"><mj-body><mj-section><mj-column><mj-text>"
           "Own template: {{ issue.title }}</mj-text></mj-column></mj-section></mj-body></mjml>\n")


def test_project_template_overrides_the_packaged_one(project) -> None:
    project.write("templates/email.mjml.j2", MINIMAL)
    html = build(project)
    assert "Own template: A test issue" in html and "In this issue" not in html


@pytest.mark.parametrize("template, message", [
    ("<mjml>\n{% if %}\n</mjml>\n",
     "templates/email.mjml.j2:2:1: error: template syntax error: Expected an expression, got "
     "'end of statement block'"),
    ("<mjml>\n<mj-body>\n{{ issue.titel }}\n</mj-body></mjml>\n",
     "templates/email.mjml.j2:3:1: error: template error: "
     "'briefing.content.model.Issue object' has no attribute 'titel'"),
    ("<mjml>\n{{ newsletter }}\n</mjml>\n",
     "templates/email.mjml.j2:2:1: error: template error: 'newsletter' is undefined"),
    ("<mjml>\n\n{% include 'header.mjml.j2' %}\n</mjml>\n",
     "templates/email.mjml.j2:3:1: error: template 'header.mjml.j2' not found"),
    ("<mjml>\n{{ 1 // 0 }}\n</mjml>\n",
     "templates/email.mjml.j2:2:1: error: template error: ZeroDivisionError: integer division "
     "or modulo by zero"),
])
def test_template_errors_name_the_file_and_line(project, template: str, message: str) -> None:
    project.write("templates/email.mjml.j2", template)
    assert_fails(project.cli("build"), message)
    assert not (project.root / "out").exists()
    assert_fails(project.cli("check"), message + "\n1 error")  # check always ends with a count


def test_an_error_in_an_included_override_names_that_file(project) -> None:
    project.write("templates/email.mjml.j2", "<mjml>\n{% include 'part.j2' %}\n</mjml>\n")
    project.write("templates/part.j2", "one\ntwo\n{{ issue.nope }}\n")
    assert_fails(project.cli("build"), "templates/part.j2:3:1: error: template error: "
                                       "'briefing.content.model.Issue object' has no attribute "
                                       "'nope'")
