"""briefing: YAML briefs in, a responsive HTML email, a plain-text digest and a ready .eml out."""

__version__ = "0.1.0"
