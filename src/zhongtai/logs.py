"""The tools' own log records go to a file under the data dir, never to the console.

The console tells the platform's story (what was built, where it is, what was decided);
MLflow, Feast, Great Expectations, dbt, Spark and the solvers under optbinning log far
more than a person reads there.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that give their loggers console handlers of their own, some when imported
# (after this runs): a filter on the logger sends their records to the file instead.
LIBRARY_LOGGERS = (
    "mlflow", "feast", "great_expectations", "dbt", "py4j", "alembic", "httpx", "__cvxpy__",
)  # fmt: skip
QUIET_TOOLS = {
    "MLFLOW_CONFIGURE_LOGGING": "false",  # no console handler of its own
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


class _ToFileOnly(logging.Filter):
    """On a library's logger: hand each record to the file, and to no handler of its own."""

    def __init__(self, handler: logging.Handler) -> None:
        super().__init__()
        self.handler = handler

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.handler.level:
            self.handler.handle(record)
        return False


def log_to_file(path: Path) -> Path:
    """Send every log record and Python warning of this process to ``path`` (appended)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for name, value in QUIET_TOOLS.items():
        os.environ.setdefault(name, value)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        for old in list(library.handlers):  # those it has now; a filter for those to come
            library.removeHandler(old)
        library.propagate = True
        for earlier in [f for f in library.filters if isinstance(f, _ToFileOnly)]:
            library.removeFilter(earlier)  # a second call in a process: the latest file wins
        library.addFilter(_ToFileOnly(handler))
    logging.captureWarnings(True)
    return path
