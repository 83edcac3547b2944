"""Colour maths for the email: WCAG 2 contrast, mixing, warnings for brand colours that fail it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..content.model import Brand, Config
from ..errors import Problem

# WCAG 2.2 success criterion 1.4.3 (level AA): 4.5:1 for normal-size text. Every text in the
# email is normal size for this purpose (bold below 18.66 px, regular below 24 px).
AA_TEXT = 4.5
RULE = "brand-contrast"
CONFIG_FILE = "briefing.yaml"

RGB = tuple[int, int, int]


def parse(colour: str) -> RGB:
    """'#rgb', '#rrggbb' or a browser's computed 'rgb(r, g, b)' / 'rgba(r, g, b, 1)'."""
    value = colour.strip()
    match = re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", value)
    if match:
        digits = match.group(1)
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    match = re.fullmatch(r"rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*[\d.]+)?\)", value)
    if match:
        return (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    raise ValueError(f"not a colour: {colour!r}")


def to_hex(rgb: RGB) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(colour: str | RGB) -> float:
    """Relative luminance as WCAG 2 defines it (sRGB, linearised)."""
    rgb = parse(colour) if isinstance(colour, str) else colour

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str | RGB, background: str | RGB) -> float:
    """WCAG contrast ratio, from 1 (same colour) to 21 (black on white)."""
    a, b = luminance(foreground), luminance(background)
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def mix(colour: str, other: str, amount: float) -> str:
    """`amount` of `colour` blended into `other` (0.15 = a light tint of colour on other)."""
    ours, theirs = parse(colour), parse(other)
    r, g, b = (round(x * amount + y * (1 - amount)) for x, y in zip(ours, theirs, strict=True))
    return to_hex((r, g, b))


def passing(foreground: str, background: str, target: float = AA_TEXT) -> str:
    """The colour closest to `foreground` (same hue, moved toward black or white) that reaches
    `target` on `background`; the foreground itself when it already does."""
    if contrast(foreground, background) >= target:
        return to_hex(parse(foreground))
    towards = "#000000" if luminance(background) > 0.18 else "#ffffff"
    low, high = 0.0, 1.0  # share of `towards` mixed in
    for _ in range(24):
        middle = (low + high) / 2
        if contrast(mix(towards, foreground, middle), background) >= target:
            high = middle
        else:
            low = middle
    return mix(towards, foreground, high)


@dataclass(frozen=True)
class Pair:
    """One foreground on one background that readers must be able to read."""

    role: str
    foreground: str  # Brand field names
    background: str


# What the email draws with each colour (templates/email.mjml.j2): every pair is text.
PAIRS = (
    Pair("body text and headings", "text", "background"),
    Pair("links and the newsletter name", "accent", "background"),
    Pair("secondary text (dates, sources, footer)", "muted", "background"),
    Pair("body text and headings in dark mode", "dark_text", "dark_background"),
    Pair("links in dark mode", "dark_accent", "dark_background"),
    Pair("secondary text in dark mode", "dark_muted", "dark_background"),
)


def ratios(brand: Brand) -> list[tuple[Pair, float]]:
    """Every pair with its contrast ratio."""
    return [(pair, contrast(getattr(brand, pair.foreground), getattr(brand, pair.background)))
            for pair in PAIRS]


def brand_warnings(config: Config, root: Path | None = None) -> list[Problem]:
    """A warning for each brand colour pair below 4.5:1, at the line of the configured key.

    With `root` (the project folder), briefing.yaml is read again for the key's line; a pair
    whose colours are both defaults cannot fail (the defaults pass) and is never reported.
    """
    brand = config.brand
    marks = _brand_marks(root) if root is not None else {}
    problems = []
    for pair, ratio in ratios(brand):
        if ratio >= AA_TEXT:
            continue
        fg, bg = getattr(brand, pair.foreground), getattr(brand, pair.background)
        # Point at the colour the editor chose: the foreground if set, else the background.
        key = pair.foreground if pair.foreground in marks or pair.background not in marks \
            else pair.background
        line, col = marks.get(key, (0, 0))
        better = passing(fg, bg)
        problems.append(Problem(
            CONFIG_FILE, line, col,
            f"brand colour {pair.foreground} {fg} on {pair.background} {bg} has a contrast of "
            f"{_ratio(ratio)}:1, below the {AA_TEXT}:1 WCAG AA asks for {pair.role}",
            hint=f"try {pair.foreground}: '{better}'", severity="warning", rule=RULE))
    return problems


def _ratio(value: float) -> str:
    """Rounded down, so a ratio of 4.496 never prints as a passing 4.5."""
    return f"{int(value * 100) / 100:.2f}".rstrip("0").rstrip(".")


def _brand_marks(root: Path) -> dict[str, tuple[int, int]]:
    """brand.<key> -> (line, col) of its value in briefing.yaml; empty if it cannot be read."""
    from ..content.load import Map, load_yaml
    from ..errors import BriefingError
    try:
        node = load_yaml(root / CONFIG_FILE, CONFIG_FILE)
    except BriefingError:
        return {}
    brand = node.get("brand") if isinstance(node, Map) else None
    if not isinstance(brand, Map):
        return {}
    return {key.text: (value.mark.line, value.mark.col) for key, value in brand.pairs}
