"""The ``zhongtai`` command run in-process (Typer's CliRunner) on a fresh data dir, with
the clock pinned, so that nothing a test runs touches var/ or depends on the real date."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from tests.cli.ran import AS_OF, Ran
from zhongtai.cli import app
from zhongtai.logs import LIBRARY_LOGGERS, QUIET_TOOLS
from zhongtai.settings import Settings


@pytest.fixture
def zhongtai(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """``zhongtai(*args)`` runs the command on the ``settings`` fixture's data dir, as of
    ``AS_OF``; environment variables the command sets are restored after the test."""
    monkeypatch.setenv("ZHONGTAI_AS_OF", AS_OF)  # --as-of and demo change it: restored
    for name, value in QUIET_TOOLS.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> Ran:
        result = CliRunner().invoke(app, list(args))
        return Ran(result.exit_code, result.output, result.exception)

    return run


@pytest.fixture(autouse=True)
def _restore_umask() -> Iterator[None]:
    """Every command makes the process's umask private; put the test process's back."""
    umask = os.umask(0o022)
    os.umask(umask)
    yield
    os.umask(umask)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Every command sends the process's log records to a file of its data dir; put the
    logging of the test process back as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    libraries = {name: list(logging.getLogger(name).filters) for name in LIBRARY_LOGGERS}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, filters in libraries.items():
        logging.getLogger(name).filters[:] = filters
    logging.captureWarnings(False)
