"""Scheduled and on-demand reports, saved views and their exports (the reports issue)."""
