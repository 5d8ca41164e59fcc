"""Radicale storage, auth and rights plugins backed by the Hermes database (the CalDAV issue)."""
