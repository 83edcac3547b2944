"""The editor's tools around a build: lint, link checks, scaffolding, live preview, screenshots."""
