"""Any day: `make test` and `make demo` with the clock shifted, as a user on another day.

Debian's `faketime` shifts the clock of a whole process tree (Python and the JVM
included) by a relative offset; monotonic time is shifted too (leave
FAKETIME_DONT_FAKE_MONOTONIC unset: with it, time.sleep fails here). redis-server cannot
run under libfaketime (its clock_gettime recurses), so a wrapper first on PATH starts it
without the library. Each run appends its date, command, exit code, test counts and the
demo's champions to bench/results/any_day.json (one entry per date and command).

    python -m bench.any_day --offset 0 --offset 103 --offset 211 --offset 317 --what demo
    python -m bench.any_day --offset 137 --what test --busy-loop  # a core taken beside it
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.machine import RESULTS_DIR, describe_machine
from zhongtai.settings import find_project_dir

ROOT = find_project_dir()  # the checkout whose `make test` and `make demo` are run
RESULTS = RESULTS_DIR / "any_day.json"
COUNTS = re.compile(r"(\d+) (passed|failed|errors?|skipped)")


def _redis_wrapper(folder: Path) -> None:
    real = shutil.which("redis-server")
    if real is None:
        raise SystemExit("redis-server is missing: run `make servers` first")
    wrapper = folder / "redis-server"
    wrapper.write_text(f'#!/bin/sh\nexec env -u LD_PRELOAD -u FAKETIME {real} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _champions(data_dir: Path) -> dict[str, object]:
    """Each family's champion (or its refusal) in a demo's registry."""
    script = (
        "import json\n"
        "from zhongtai.settings import Settings\n"
        "from zhongtai.ml.spec import model_families\n"
        "from zhongtai.ml.track import use_mlflow\n"
        "client = use_mlflow(Settings())\n"
        "found = {}\n"
        "for family in model_families():\n"
        "    versions = client.search_model_versions(f\"name = '{family}'\")\n"
        "    latest = max(versions, key=lambda v: int(v.version)) if versions else None\n"
        "    try:\n"
        "        champion = client.get_model_version_by_alias(family, 'champion').version\n"
        "    except Exception:\n"
        "        champion = None\n"
        "    found[family] = {\n"
        "        'champion': champion,\n"
        "        'promotion': latest.tags.get('promotion') if latest else None,\n"
        "        'reasons': latest.tags.get('promotion.reasons') if latest else None,\n"
        "    }\n"
        "print(json.dumps(found))\n"
    )
    env = {**os.environ, "ZHONGTAI_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c", script],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return json.loads(done.stdout) if done.returncode == 0 else {"error": done.stderr[-500:]}


BUSY_LOOP = "while True: pass"


def run_one(offset_days: int, what: str, log_dir: Path, busy_loop: bool) -> dict[str, object]:
    day = (datetime.now(UTC) + timedelta(days=offset_days)).date()
    command = ["faketime", "-f", f"+{offset_days}d", "make", what]
    data_dir = ROOT / "var" / "any_day" / f"{what}-{day.isoformat()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    log = log_dir / f"{what}-{day.isoformat()}.log"
    with tempfile.TemporaryDirectory() as wrappers:
        _redis_wrapper(Path(wrappers))
        env = {
            **os.environ,
            "PATH": f"{wrappers}{os.pathsep}{os.environ['PATH']}",
            "CI": "true",
            "ZHONGTAI_DATA_DIR": str(data_dir),
        }
        env.pop("FAKETIME_DONT_FAKE_MONOTONIC", None)
        env.pop("ZHONGTAI_AS_OF", None)  # the shifted clock is the only clock
        print(f"{day}: {' '.join(command)} (log: {log})", flush=True)
        # another program taking a whole core for the length of the run, as on a busy machine
        busy = subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) if busy_loop else None
        started = time.monotonic()
        with log.open("w") as out:
            rc = subprocess.run(
                command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            ).returncode
        wall_s = round(time.monotonic() - started, 1)
        if busy is not None:
            busy.kill()
            busy.wait()
    text = log.read_text(errors="replace")
    entry: dict[str, object] = {
        "date": day.isoformat(),
        "offset_days": offset_days,
        "command": " ".join(command),
        "rc": rc,
        "wall_s": wall_s,
        "busy_loop_beside": busy_loop,
    }
    if what == "test":
        summary = [line for line in text.splitlines() if re.search(r"\d+ passed|\d+ failed", line)]
        counts = {kind: 0 for kind in ("passed", "failed", "errors", "skipped")}
        for number, kind in COUNTS.findall(summary[-1] if summary else ""):
            counts["errors" if kind.startswith("error") else kind] += int(number)
        entry.update(counts)
    else:
        entry["console_lines"] = len(text.splitlines())
        entry["champions"] = _champions(data_dir)
    print(json.dumps(entry), flush=True)
    return entry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offset", type=int, action="append", required=True, help="days ahead")
    parser.add_argument("--what", choices=["test", "demo"], action="append", required=True)
    parser.add_argument(
        "--busy-loop", action="store_true", help="run a busy loop beside each run (one core)"
    )
    parser.add_argument("--log-dir", type=Path, default=ROOT / "var" / "any_day" / "logs")
    args = parser.parse_args()
    if shutil.which("faketime") is None:
        raise SystemExit("faketime is missing: `make bench-any-day` installs it (Debian package)")
    args.log_dir.mkdir(parents=True, exist_ok=True)
    runs = json.loads(RESULTS.read_text())["runs"] if RESULTS.exists() else []
    for offset in args.offset:
        for what in args.what:
            entry = run_one(offset, what, args.log_dir, args.busy_loop)
            runs = [
                r for r in runs if (r["date"], r["command"]) != (entry["date"], entry["command"])
            ]
            runs.append(entry)
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(
                json.dumps({"machine": describe_machine(), "runs": runs}, indent=2) + "\n"
            )


if __name__ == "__main__":
    main()
