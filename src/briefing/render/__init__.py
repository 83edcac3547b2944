"""Pure renderers: each takes the Issue model and returns text, touching neither disk nor network."""
