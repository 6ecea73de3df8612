"""What a benchmark ran on, recorded beside its figures."""

from __future__ import annotations

import json
import os
import platform
import resource
from pathlib import Path

import psutil

RESULTS_DIR = Path(__file__).parent / "results"  # one JSON file of figures per benchmark


def describe_machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process and of its finished children, in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command; return its wall seconds and the peak RSS (MB) of its whole process tree.

    The tree matters: on Spark the work happens in a JVM that the Python process starts.
    """
    import subprocess
    import time

    started = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
            peak = max(peak, sum(_rss(p) for p in tree))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.2)
    wall_s = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed with exit code {process.returncode}")
    return wall_s, round(peak / 2**20, 1)


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def write_results(path: Path, result: dict[str, object]) -> None:
    """Write a benchmark's figures (to ``RESULTS_DIR``, as a rule) and show them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
