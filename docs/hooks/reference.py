"""mkdocs hook: the reference pages' tables, made from the code at build time so they cannot drift.

A page asks for one with a marker line: `<!-- generated: commands -->` (every command's --help,
from the Click command Typer builds), `<!-- generated: config -->`, `issue` or `brief` (every
field, from the JSON Schema `briefing schema` prints) and `<!-- generated: limits -->` (the
caps, from the constants the code checks them with).
"""

from __future__ import annotations

import re

MARKER = re.compile(r"^<!-- generated: ([a-z]+) -->$", re.M)
WIDTH = 80  # --help is wrapped as on an 80-column terminal


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 - mkdocs' API
    return MARKER.sub(lambda m: GENERATORS[m.group(1)](), markdown)


# -- commands ----------------------------------------------------------------------------------

def commands() -> str:
    """Each command's --help exactly as `briefing ... --help` prints it, in the order the
    commands are listed."""
    import typer.main

    from briefing.cli import app

    root = typer.main.get_command(app)
    out: list[str] = []

    def walk(command, name: str, parent) -> None:
        ctx = command.make_context(name.split()[-1], [], parent=parent, resilient_parsing=True,
                                   terminal_width=WIDTH, max_content_width=WIDTH)
        ctx.info_name = name.split()[-1]
        if parent is not None:
            out.append(f"## `{name}`\n\n```text\n{command.get_help(ctx).rstrip()}\n```\n")
        for sub in getattr(command, "list_commands", lambda _: [])(ctx):
            walk(command.get_command(ctx, sub), f"{name} {sub}", ctx)

    walk(root, "briefing", None)
    ctx = root.make_context("briefing", [], resilient_parsing=True, terminal_width=WIDTH,
                            max_content_width=WIDTH)
    top = f"## `briefing`\n\n```text\n{root.get_help(ctx).rstrip()}\n```\n"
    return "\n".join([top, *out])


# -- the formats ---------------------------------------------------------------------------------

def _kind(schema: dict) -> str:
    kind = schema.get("type", "")
    if kind == "array":
        inner = schema.get("items", {})
        return "list of " + ("mappings" if inner.get("type") == "object" else
                             _kind(inner).replace("text", "texts").replace("number", "numbers"))
    if kind == "object":
        return "mapping"
    if schema.get("format") == "date":
        return "date (YYYY-MM-DD)"
    return {"string": "text", "number": "number", "integer": "whole number",
            "boolean": "true or false"}.get(kind, kind)


def _limits(schema: dict) -> str:
    parts = []
    if "maxLength" in schema:
        parts.append(f"at most {schema['maxLength']:,} characters")
    if "minimum" in schema:
        parts.append(f"at least {schema['minimum']:g}")
    if "maximum" in schema:
        parts.append(f"at most {schema['maximum']:g}")
    if schema.get("minItems"):
        parts.append(f"at least {schema['minItems']}")
    if "maxItems" in schema and schema["maxItems"] < 10000:
        parts.append(f"at most {schema['maxItems']}")
    if "enum" in schema:
        parts.append("one of " + ", ".join(f"`{v}`" for v in schema["enum"]))
    return "; ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _rows(schema: dict, prefix: str) -> list[str]:
    rows = []
    required = set(schema.get("required", ()))
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        element = field.get("items", {}) if field.get("type") == "array" else {}
        limits = _limits(field)
        if element and element.get("type") != "object":
            limits = "; ".join(x for x in (limits, _limits(element)) if x)
        description = field.get("description") or element.get("description", "")
        rows.append(f"| `{path}` | {_kind(field)} | {'yes' if name in required else ''} | "
                    f"{_cell(description)} | {_cell(limits)} |")
        if field.get("type") == "object":
            rows.extend(_rows(field, f"{path}."))
        elif element.get("type") == "object":
            rows.extend(_rows(element, f"{path}[]."))
    return rows


def _format(name: str) -> str:
    from briefing.content.schema import json_schemas

    schema = json_schemas()[name]
    head = ["| key | type | required | what it is | limits |", "|---|---|---|---|---|"]
    return "\n".join([*head, *_rows(schema, "")]) + "\n"


# -- limits -------------------------------------------------------------------------------------

def limits() -> str:
    """The caps, each from the constant the code checks it with."""
    from briefing.content import load, markdown, schema, validate
    from briefing.deliver import transport
    from briefing.publish import issues
    from briefing.render import html, text
    from briefing.subscribers import endpoint, importer

    rows = [
        ("size of one YAML file", f"{load.MAX_FILE_BYTES:,} bytes", "content/load.py"),
        ("nesting in one YAML file", f"{load.MAX_DEPTH} levels", "content/load.py"),
        ("values in one YAML file", f"{load.MAX_NODES:,}", "content/load.py"),
        ("YAML mistakes read past in one file (each fix reads the file again)",
         f"{load.MAX_REPAIRS}, and at most {load.MAX_REREAD_BYTES:,} bytes read again",
         "content/load.py"),
        ("YAML in one issue, all files together", f"{validate.MAX_ISSUE_BYTES:,} bytes",
         "content/validate.py"),
        ("items in one issue", f"{validate.MAX_ISSUE_ITEMS:,}", "content/validate.py"),
        ("length of a URL", f"{schema.MAX_URL:,} characters", "content/schema.py"),
        ("emphasis nested in inline Markdown", f"{markdown.MAX_DEPTH} levels",
         "content/markdown.py"),
        ("width of the text digest", f"{text.WIDTH} columns", "render/text.py"),
        ("email size before Gmail clips it", f"{html.GMAIL_CLIP_BYTES // 1024} KB "
         f"({html.GMAIL_CLIP_BYTES:,} bytes)", "render/html.py"),
        ("size of an issue.json read back", f"{issues.MAX_ISSUE_JSON:,} bytes",
         "publish/issues.py"),
        ("nesting of an issue.json read back", f"{issues.MAX_JSON_DEPTH} levels",
         "publish/issues.py"),
        ("attempts per reader on a temporary failure", f"{transport.MAX_ATTEMPTS}",
         "deliver/transport.py"),
        ("size of a CSV import", f"{importer.MAX_BYTES:,} bytes", "subscribers/importer.py"),
        ("body of a request to the endpoint", f"{endpoint.MAX_BODY:,} bytes",
         "subscribers/endpoint.py"),
        ("the endpoint's events file", f"{endpoint.MAX_EVENTS_FILE:,} bytes",
         "subscribers/endpoint.py"),
    ]
    lines = ["| what | limit | checked in |", "|---|---|---|"]
    lines += [f"| {what} | {value} | `src/briefing/{where}` |" for what, value, where in rows]
    return "\n".join(lines) + "\n"


GENERATORS = {
    "commands": commands,
    "config": lambda: _format("config"),
    "issue": lambda: _format("issue"),
    "brief": lambda: _format("brief"),
    "limits": limits,
}
