"""Inbound and outbound e-mail: one pipeline in, one outbox out (the e-mail issues)."""
