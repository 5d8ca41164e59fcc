"""``view add|list|show|update|delete|export``: saved views (named task filters), exports."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the commands."""
