"""The editor-facing formats, declared once: the validator checks them and `schema` prints them."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import Problems
from .load import Map, Node, Scalar, Seq
from .model import Origin

INVALID: Any = object()  # returned where a value had a problem (already reported)

# C0/C1 controls, DEL, and bidi/zero-width *format* controls are fine in prose, but a raw
# control character never is; newline and tab are allowed only in multi-line text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NEWLINE = re.compile(r"[\r\n\u2028\u2029\x85]")
# RFC 2047 encoded words decode to anything, including CR/LF (CVE-2024-6923); header-bound text
# is written as plain Unicode and encoded by the email package, so an encoded word is never needed.
ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
# 12,500 or 1 250 000: grouped digits, which YAML reads as text (or splits in { }).
_GROUPED = re.compile(r"\d{1,3}(?:[, ]\d{3})+(?:\.\d+)?")


class Spec:
    """A value's shape: check a node into a Python value and describe it as JSON Schema."""

    description: str = ""

    def check(self, node: Node, problems: Problems,
              what: str = "value") -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def json_schema(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def expect(self) -> str:
        return "a value"


def _fail(problems: Problems, node: Node, message: str, hint: str = "") -> Any:
    problems.add(node.mark.path, node.mark.line, node.mark.col, message, hint)
    return INVALID


def _wrong_type(problems: Problems, node: Node, what: str, spec: Spec) -> Any:
    hint = ""
    if isinstance(node, Scalar) and spec.expect() == "text":
        hint = "put it in quotes if you meant it as text"
    return _fail(problems, node, f"{what} should be {spec.expect()}, not {node.describe()}", hint)


@dataclass
class Text(Spec):
    """A string. `multiline` allows line breaks; `header` refuses encoded words too."""

    description: str = ""
    multiline: bool = False
    header: bool = False
    max_length: int = 10_000
    pattern: str | None = None
    pattern_hint: str = ""
    examples: tuple = ()

    def expect(self) -> str:
        return "text"

    def check_text(self, node: Scalar, what: str, problems: Problems) -> Any:
        value = node.text
        found = _CONTROL.search(value) or (None if self.multiline else _NEWLINE.search(value))
        if found:
            bad = found.group()
            name = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}.get(
                bad, f"control character U+{ord(bad):04X}")
            return _fail(problems, node, f"{what} must not contain {name}")
        word = ENCODED_WORD.search(value) if self.header else None
        if word:
            return _fail(problems, node, f"{what} must not contain an encoded word "
                                         f"('{word.group()}')",
                         "write the characters themselves")
        if self.multiline:
            value = re.sub(r"[ \t]*\n[ \t]*", "\n", value.replace("\t", " ")).strip()
        if not value.strip():
            return _fail(problems, node, f"{what} is empty")
        if len(value) > self.max_length:
            return _fail(problems, node, f"{what} is {len(value):,} characters; "
                                         f"the limit is {self.max_length:,}")
        if self.pattern and not re.fullmatch(self.pattern, value):
            return _fail(problems, node, f"{what} '{value}' is not valid", self.pattern_hint)
        return value

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        if not isinstance(node, Scalar) or node.kind != "text":
            return _wrong_type(problems, node, what, self)
        return self.check_text(node, what, problems)

    def json_schema(self) -> dict:
        schema: dict = {"type": "string", "minLength": 1, "maxLength": self.max_length}
        if self.pattern:
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.description:
            schema["description"] = self.description
        if self.examples:
            schema["examples"] = list(self.examples)
        return schema


@dataclass
class Date(Spec):
    description: str = ""

    def expect(self) -> str:
        return "a date (YYYY-MM-DD)"

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        if not isinstance(node, Scalar) or node.kind not in ("date", "text"):
            return _wrong_type(problems, node, what, self)
        written = node.text.strip()
        parts = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", written)
        if parts:
            from .dates import date_problem
            wrong = date_problem(*(int(x) for x in parts.groups()))
            if wrong:
                return _fail(problems, node, f"{what} {wrong}")
            return dt.date.fromisoformat(written)
        return _fail(problems, node, f"{what} '{node.text}' is not a date",
                     "write it as YYYY-MM-DD")

    def json_schema(self) -> dict:
        return {"type": "string", "format": "date", "description": self.description}


@dataclass
class Number(Spec):
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False  # a count: 2.5 is refused

    def expect(self) -> str:
        return "a number"

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        if isinstance(node, Scalar) and _GROUPED.fullmatch(node.text.strip()):
            return _fail(problems, node, f"{what} {node.text.strip()} has a thousands "
                                         "separator", "write the number without it: "
                                         f"{re.sub('[, ]', '', node.text.strip())}")
        if not isinstance(node, Scalar) or node.kind != "number":
            return _wrong_type(problems, node, what, self)
        try:
            value = float(node.text.replace("_", ""))
        except ValueError:
            return _fail(problems, node, f"{what} '{node.text}' is not a number")
        if value != value or value in (float("inf"), float("-inf")):
            return _fail(problems, node, f"{what} must be a finite number")
        if self.integer and not value.is_integer():
            return _fail(problems, node, f"{what} must be a whole number, not {node.text}")
        if self.minimum is not None and value < self.minimum:
            return _fail(problems, node, f"{what} must be at least {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            return _fail(problems, node, f"{what} must be at most {self.maximum:g}")
        return int(value) if value.is_integer() and abs(value) < 1e15 else value

    def json_schema(self) -> dict:
        schema: dict = {"type": "integer" if self.integer else "number",
                        "description": self.description}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass
class Custom(Text):
    """Text that a function turns into a value or rejects with a message."""

    convert: Callable[[str], Any] | None = None

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        value = super().check(node, problems, what)
        if value is INVALID or self.convert is None:
            return value
        try:
            return self.convert(value)
        except ValueError as exc:
            message, _, hint = str(exc).partition("|")
            return _fail(problems, node, f"{what} {message}", hint)


@dataclass
class List(Spec):
    of: Spec = field(default_factory=Text)
    min_items: int = 0
    max_items: int = 10_000
    description: str = ""

    def expect(self) -> str:
        return "a list"

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        if not isinstance(node, Seq):
            return _wrong_type(problems, node, what, self)
        if len(node.items) < self.min_items:
            noun = _NOUNS.get(what.strip("'"), "entry")
            need = "at least one" if self.min_items == 1 else f"at least {self.min_items}"
            return _fail(problems, node, f"{what} needs {need} {noun}")
        if len(node.items) > self.max_items:
            return _fail(problems, node, f"{what} has {len(node.items)} entries; "
                                         f"the limit is {self.max_items}")
        values = [self.of.check(item, problems, f"{what}[{i + 1}]")
                  for i, item in enumerate(node.items)]
        return INVALID if any(v is INVALID for v in values) else tuple(values)

    def json_schema(self) -> dict:
        schema = {"type": "array", "items": self.of.json_schema(), "minItems": self.min_items,
                  "maxItems": self.max_items}
        if self.description:
            schema["description"] = self.description
        return schema


def _split_numbers(node: Map, problems: Problems) -> set[int]:
    """`{value: 12,500}`: in a flow mapping each comma ends an entry, leaving keys like '500'
    with no value. Report what happened, once per number, instead of "unknown key '500'";
    the indexes of those left-over keys are returned so they are not reported again."""
    skip: set[int] = set()
    pairs = node.pairs
    for index, (name, number) in enumerate(pairs):
        if not (isinstance(number, Scalar) and number.kind == "number"):
            continue
        groups = []
        for key, value in pairs[index + 1:]:
            if not (re.fullmatch(r"\d{3}", key.text) and isinstance(value, Scalar)
                    and value.kind == "null" and not value.text
                    and key.mark.line == number.mark.line):
                break
            groups.append(key.text)
        if groups:
            skip.update(range(index + 1, index + 1 + len(groups)))
            written = ",".join([number.text, *groups])
            _fail(problems, number,
                  f"'{name.text}: {written}' is split at the comma: inside {{ }} a comma "
                  "separates entries", f"write the number without a thousands separator: "
                                       f"{name.text}: {''.join([number.text, *groups])}")
    return skip


# Friendlier nouns for "needs at least one ..." messages.
_NOUNS = {"sources": "link", "items": "item", "recipients": "recipient", "themes": "theme"}


@dataclass
class Key:
    spec: Spec
    required: bool = False
    default: Any = None  # for an absent optional key of an Object without a model


@dataclass
class Object(Spec):
    """A mapping with known keys: unknown keys get a did-you-mean, missing ones an error.

    With `model` (a dataclass of the model whose fields are the keys), a valid mapping becomes
    that model: an absent optional key takes the model's own default, so each default is
    written once, in model.py. A model with an `origin` field gets where the mapping starts.
    """

    keys: dict[str, Key] = field(default_factory=dict)
    title: str = ""
    description: str = ""
    name: str = ""  # for messages: "a source", "an item"
    model: type | None = None

    def expect(self) -> str:
        return "a mapping of keys to values"

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        if not isinstance(node, Map):
            return _wrong_type(problems, node, what, self)
        values: dict[str, Any] = {}
        suggested: set[str] = set()
        skip = _split_numbers(node, problems)
        ok = not skip
        for index, (key, value) in enumerate(node.pairs):
            if index in skip:
                continue
            if key.text not in self.keys:
                close = difflib.get_close_matches(key.text, self.keys, n=1, cutoff=0.6)
                suggested.update(close)
                known = ", ".join(self.keys)
                hint = f"did you mean '{close[0]}'?" if close else f"known keys: {known}"
                _fail(problems, key, f"unknown key '{key.text}'", hint)
                ok = False
                continue
            spec = self.keys[key.text].spec
            if isinstance(value, Scalar) and value.kind == "null" and isinstance(spec, List):
                value = Seq([], value.mark)  # "sources:" with nothing after it is an empty list
            if isinstance(value, Scalar) and value.kind == "null":
                _fail(problems, value, f"'{key.text}' is empty")
                ok = False
                continue
            result = spec.check(value, problems, f"'{key.text}'")
            if result is INVALID:
                ok = False
            values[key.text] = result
        for name, declared in self.keys.items():
            if name in values or any(k.text == name for k, _ in node.pairs):
                continue
            if declared.required:
                if name not in suggested:  # else the misspelt key was reported already
                    _fail(problems, node, f"missing required key '{name}'"
                                          + (f" in {self.name}" if self.name else ""))
                ok = False
            elif self.model is None:
                values[name] = declared.default
        if not ok:
            return INVALID
        if self.model is None:
            return values
        if "origin" in getattr(self.model, "__dataclass_fields__", {}):
            values["origin"] = Origin(node.mark.path, node.mark.line, node.mark.col)
        return self.model(**values)

    def json_schema(self) -> dict:
        schema: dict = {
            "type": "object",
            "properties": {n: k.spec.json_schema() for n, k in self.keys.items()},
            "required": [n for n, k in self.keys.items() if k.required],
            "additionalProperties": False,
        }
        if self.title:
            schema["title"] = self.title
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass
class Flag(Spec):
    """true or false, written exactly so: YAML 1.1's yes/no/on/off are refused as ambiguous."""

    description: str = ""

    def expect(self) -> str:
        return "true or false"

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        if not isinstance(node, Scalar) or node.kind != "boolean":
            return _wrong_type(problems, node, what, self)
        word = node.text.strip()
        if word not in ("true", "false"):
            return _fail(problems, node, f"{what} '{word}' is ambiguous",
                         "write true or false")
        return word == "true"

    def json_schema(self) -> dict:
        return {"type": "boolean", "description": self.description}


@dataclass
class WordOr(Spec):
    """One fixed word, or a mapping: `dkim: relay`, or `dkim:` with keys under it. `consistent`
    says what the mapping's keys cannot say one by one ('' when the value is fine)."""

    word: str = ""
    word_value: Any = None
    mapping: Object = field(default_factory=Object)
    consistent: Callable[[Any], str] | None = None
    description: str = ""

    def expect(self) -> str:
        return f"'{self.word}' or a mapping of keys to values"

    def check(self, node: Node, problems: Problems, what: str = "value") -> Any:
        if isinstance(node, Scalar) and node.kind == "text":
            if node.text.strip() == self.word:
                return self.word_value
            return _fail(problems, node, f"{what} should be '{self.word}' or a mapping with "
                                         f"{', '.join(self.mapping.keys)}, not '{node.text}'")
        if not isinstance(node, Map):
            return _wrong_type(problems, node, what, self)
        value = self.mapping.check(node, problems, what)
        if value is INVALID or self.consistent is None:
            return value
        wrong = self.consistent(value)
        if wrong:
            message, _, hint = wrong.partition("|")
            return _fail(problems, node, f"{what} {message}", hint)
        return value

    def json_schema(self) -> dict:
        schema: dict = {"oneOf": [{"const": self.word, "description": f"'{self.word}'"},
                                  self.mapping.json_schema()]}
        if self.description:
            schema["description"] = self.description
        return schema
