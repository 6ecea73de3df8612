"""Tool logs reach the file, not the console, even from a library's own console handler."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from zhongtai.logs import log_to_file


def test_library_records_go_to_the_file_even_through_handlers_added_later(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    path = log_to_file(tmp_path / "logs" / "command.log")
    try:
        # as cvxpy does when optbinning imports it: a console handler of its own
        library = logging.getLogger("__cvxpy__")
        library.addHandler(logging.StreamHandler(sys.stderr))
        library.propagate = False
        library.warning("solver HIGHS could not be imported")
        logging.getLogger("mlflow.store").info("creating tables")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("__cvxpy__").handlers.clear()
        for name in ("__cvxpy__", "mlflow"):
            logging.getLogger(name).filters.clear()
        logging.captureWarnings(False)
    assert capsys.readouterr().err == ""
    text = path.read_text()
    assert "solver HIGHS could not be imported" in text and "creating tables" in text


def test_a_second_log_file_takes_over_the_libraries_records(tmp_path: Path) -> None:
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    try:
        first = log_to_file(tmp_path / "first.log")
        second = log_to_file(tmp_path / "second.log")
        logging.getLogger("__cvxpy__").warning("solver HIGHS could not be imported")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("__cvxpy__").filters.clear()
        logging.captureWarnings(False)
    assert "solver HIGHS" in second.read_text()
    assert "solver HIGHS" not in first.read_text()
