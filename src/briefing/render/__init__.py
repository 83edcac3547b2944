"""Pure renderers: the Issue model in, text or bytes out; neither disk nor network is touched."""
