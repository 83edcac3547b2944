"""The readers: the private store (SQLite), tokens, import/export, sync and the endpoint."""
