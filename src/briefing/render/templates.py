"""The Jinja2 environment: a project's templates/ overrides the packaged ones by file name."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..content.dates import long_date, short_date
from ..content.model import Code, Emphasis, Link, Span, Stat, Strong, Text
from ..content.schema import COLOUR
from ..errors import BriefingError, Problem

PACKAGE_TEMPLATES = Path(__file__).parents[1] / "templates"  # where the wheel ships them
SOURCE_TEMPLATES = Path(__file__).resolve().parents[3] / "templates"  # a source checkout


def packaged_templates() -> Path:
    return PACKAGE_TEMPLATES if PACKAGE_TEMPLATES.is_dir() else SOURCE_TEMPLATES


def _escape(text: str) -> str:
    from markupsafe import escape
    return str(escape(text))


def spans_to_html(spans: tuple[Span, ...], link_colour: str | None = None) -> str:
    """Inline Markdown as HTML; every text is escaped. With `link_colour` each link carries it in
    an inline style, so clients that strip <style> (Gmail with non-Google accounts, many webmail
    apps) still show links in the brand colour."""
    out: list[str] = []
    style = ""
    if link_colour is not None:
        if not re.fullmatch(COLOUR, link_colour):  # it lands in an attribute: never trust it
            raise ValueError(f"not a colour: {link_colour!r}")
        style = f' style="color:{link_colour}"'
    for span in spans:
        if isinstance(span, Text):
            out.append(_escape(span.text).replace("\n", "<br>"))
        elif isinstance(span, Code):
            out.append(f"<code>{_escape(span.text)}</code>")
        elif isinstance(span, Emphasis):
            out.append(f"<em>{spans_to_html(span.children, link_colour)}</em>")
        elif isinstance(span, Strong):
            out.append(f"<strong>{spans_to_html(span.children, link_colour)}</strong>")
        elif isinstance(span, Link):
            title = f' title="{_escape(span.title)}"' if span.title else ""
            out.append(f'<a href="{_escape(span.url)}"{title}{style}>'
                       f"{spans_to_html(span.children, link_colour)}</a>")
    return "".join(out)


def split_paragraphs(spans: tuple[Span, ...]) -> list[tuple[Span, ...]]:
    """Split top-level spans at line breaks in plain text (a blank line in a summary)."""
    paragraphs: list[list[Span]] = [[]]
    for span in spans:
        if isinstance(span, Text) and "\n" in span.text:
            parts = span.text.split("\n")
            for index, part in enumerate(parts):
                if index:
                    paragraphs.append([])
                if part:
                    paragraphs[-1].append(Text(part))
        else:
            paragraphs[-1].append(span)
    return [tuple(p) for p in paragraphs if p]


def bars(stats: tuple[Stat, ...]) -> list[dict]:
    """Rows for a bar chart: each value's width as a whole percentage of the largest (a value
    above zero always shows at least 1%, so it never looks like zero)."""
    from .text import format_value
    top = max((s.value for s in stats), default=0) or 1
    return [{"label": s.label, "value": format_value(s),
             "percent": min(100, max(1, round(s.value / top * 100))) if s.value > 0 else 0}
            for s in stats]


def plural(n: int, noun: str) -> str:
    """'1 item', '3 items'."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _bytecode_cache():
    """Compiled templates cached in the user's own cache folder, never in the project.

    Compiling the email template is the largest cost of a small build (about 40 ms of a 0.25 s
    `briefing build`). A compiled template is code that runs when loaded, so it must never come
    from a folder others can write to: a cache in the project or in out/ (committed, shared,
    downloaded) would run whatever was planted there. The folder is created with mode 0700 and
    used only while it belongs to this user and nobody else can write to it; Jinja checks each
    entry against the template source's checksum. BRIEFING_NO_CACHE=1 turns it off.
    """
    import os
    import stat

    if os.environ.get("BRIEFING_NO_CACHE") or not hasattr(os, "getuid"):
        return None
    import sys

    import jinja2

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "briefing" / f"jinja-{sys.implementation.cache_tag}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None  # a cache that cannot be made only costs speed
    if (not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid()
            or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)):
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


@lru_cache(maxsize=8)
def environment(project_templates: Path | None, autoescape: bool = True):
    """One environment per run and template set: templates are compiled once, then reused."""
    import jinja2
    from markupsafe import Markup

    from .colours import mix

    search = [str(packaged_templates())]
    if project_templates is not None and project_templates.is_dir():
        search.insert(0, str(project_templates))
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=False,
        bytecode_cache=_bytecode_cache(),
    )

    @jinja2.pass_context
    def inline(context, spans, link_colour: str | None = None):
        # Links take the brand accent unless the template names another colour.
        if link_colour is None and "brand" in context:
            link_colour = context["brand"].accent
        return Markup(spans_to_html(spans, link_colour))

    env.filters["inline"] = inline
    env.filters["paragraphs"] = split_paragraphs
    env.filters["long_date"] = long_date
    env.filters["short_date"] = short_date
    env.filters["bars"] = bars
    env.filters["mix"] = mix
    env.filters["plural"] = plural
    return env


def render_template(env, name: str, context: dict) -> str:
    """Render one template; any template error names the template file and line."""
    import jinja2
    try:
        template = env.get_template(name)
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise BriefingError(Problem(_template_path(env, exc.filename or name), exc.lineno or 0, 0,
                                    f"template syntax error: {exc.message}")) from None
    except jinja2.TemplateNotFound as exc:
        path, line = _template_frame(env, exc, name)
        if line:  # an include or extends inside a template
            raise BriefingError(Problem(path, line, 0, f"template '{exc.name}' not found")) \
                from None
        raise BriefingError(Problem(f"templates/{exc.name}", 0, 0, "template not found")) from None
    except jinja2.UndefinedError as exc:
        path, line = _template_frame(env, exc, name)
        raise BriefingError(Problem(path, line, 0, f"template error: {exc}")) from None
    except Exception as exc:  # noqa: BLE001 - a template is the editor's code: any failure in it
        # (1/0, a filter given the wrong type) is theirs to fix, so it gets file and line.
        path, line = _template_frame(env, exc, name)
        raise BriefingError(Problem(path, line, 0,
                                    f"template error: {type(exc).__name__}: {exc}")) from None


def _template_path(env, filename: str) -> str:
    """A template file as the editor sees it: templates/x for theirs, '(packaged)' for ours."""
    path = Path(filename)
    for root in env.loader.searchpath:
        try:
            rel = path.resolve().relative_to(Path(root).resolve())
        except ValueError:
            continue
        if Path(root).resolve() == packaged_templates().resolve():
            return f"(packaged) templates/{rel.as_posix()}"
        return f"templates/{rel.as_posix()}"
    return filename


def _template_frame(env, exc: BaseException, name: str) -> tuple[str, int]:
    """The innermost template line in the traceback (Jinja maps frames back to template lines)."""
    tb = exc.__traceback__
    found = (f"templates/{name}", 0)
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not filename.endswith(".py") and Path(filename).exists():
            found = (_template_path(env, filename), tb.tb_lineno)
        tb = tb.tb_next
    return found
