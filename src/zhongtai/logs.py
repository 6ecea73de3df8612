"""The tools' own log records go to a file under the data dir, never to the console.

The console tells the platform's story (what was built, where it is, what was decided);
MLflow, Feast, Great Expectations, dbt and Spark log far more than a person reads there.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that give their loggers handlers of their own (the console): theirs are
# dropped so that their records reach the file through the root logger.
LIBRARY_LOGGERS = ("mlflow", "feast", "great_expectations", "dbt", "py4j", "alembic", "httpx")


def log_to_file(path: Path) -> Path:
    """Send every log record and Python warning of this process to ``path`` (appended)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")  # its own console handler
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        for old in list(library.handlers):
            library.removeHandler(old)
        library.propagate = True
    logging.captureWarnings(True)
    return path
