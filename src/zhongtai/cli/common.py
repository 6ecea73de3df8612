"""What the command modules share: one console, and how a command hands its arguments on."""

from __future__ import annotations

from typing import Any

from rich.console import Console

console = Console()
if not console.is_terminal:  # a log or CI: lines as long as a report's, not 80 columns
    console.width = 120

# For commands that run another tool's CLI (``airflow``, ``features feast``): every
# argument after the command, options included, goes to that tool untouched.
PASS_THROUGH: dict[str, Any] = {"allow_extra_args": True, "ignore_unknown_options": True}
