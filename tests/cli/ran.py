"""What a test of the command reads from one run of it."""

from __future__ import annotations

import re
from dataclasses import dataclass

AS_OF = "2025-03-15"  # the day every test of the command treats as today
_BORDERS = re.compile(r"[│╭╮╰╯─]")


@dataclass(frozen=True)
class Ran:
    """What one ``zhongtai ...`` left: its exit code, what it printed and any exception."""

    exit_code: int
    output: str
    exception: BaseException | None

    @property
    def text(self) -> str:
        """The output as one line, without the error panel's borders or line wraps."""
        return " ".join(_BORDERS.sub(" ", self.output).split())
