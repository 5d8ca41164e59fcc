"""The HTTP server: one WSGI application for CalDAV, feeds and the admin API."""
