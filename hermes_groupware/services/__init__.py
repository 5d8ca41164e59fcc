"""Domain services: the only code that writes.

Each function takes a :class:`~hermes_groupware.db.session.UnitOfWork` first, checks
permissions through :mod:`access`, flushes and never commits. No protocol code here.
"""
