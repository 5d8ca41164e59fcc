"""Database plumbing: declarative base, column types, engine/session, triggers and migrations."""
