"""Benchmark: hostile inputs against landing, the API, erasure and governed serving.

    .venv/bin/python -m bench.adversarial

Runs the hostile-input suite (``tests/adversarial``) and aggregates what each case
recorded: its kind (``landing.encoding``, ``api.identity``...), its outcome
(``quarantined``, ``refused``, ``not_for_landing``...), and, where the case measures them,
rows lost and clear values found. A case that errors or fails counts as a crash: every
case asserts its outcome, that no good row was lost and that no clear value is found.
Writes bench/results/adversarial.json.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

from bench.machine import RESULTS_DIR, describe_machine, write_results

RESULTS = RESULTS_DIR / "adversarial.json"
SUITE = "tests/adversarial"


def run_suite(junit: Path) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "pytest", SUITE, "-q", "-p", "no:cacheprovider"]
    subprocess.run([*command, f"--junitxml={junit}"], check=False)
    return time.perf_counter() - started


def cases(junit: Path) -> list[dict[str, object]]:
    """One entry per test case: its id, recorded properties and whether it held."""
    found = []
    for case in ElementTree.parse(junit).getroot().iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        broke = case.find("failure") is not None or case.find("error") is not None
        skipped = case.find("skipped") is not None
        found.append(
            {
                "case": f"{case.get('classname')}::{case.get('name')}",
                "kind": properties.get("kind", "unrecorded"),
                "outcome": "crash" if broke else properties.get("outcome", "held"),
                "skipped": skipped,
                "rows_lost": int(properties.get("rows_lost") or 0),
                "clear_hits": int(properties.get("clear_hits") or 0),
            }
        )
    return found


def summarise(found: list[dict[str, object]], seconds: float) -> dict[str, object]:
    ran = [case for case in found if not case["skipped"]]
    outcomes: dict[str, Counter[str]] = {}
    for case in ran:
        area = str(case["kind"]).split(".", 1)[0]
        outcomes.setdefault(area, Counter())[str(case["outcome"])] += 1
    return {
        "inputs_tried": len(ran),
        "distinct_kinds": len({case["kind"] for case in ran}),
        "skipped": len(found) - len(ran),
        "outcomes_by_area": {area: dict(counts) for area, counts in sorted(outcomes.items())},
        "crashes": sum(case["outcome"] == "crash" for case in ran),
        "rows_lost": sum(int(str(case["rows_lost"])) for case in ran),
        "clear_value_hits": sum(int(str(case["clear_hits"])) for case in ran),
        "suite_seconds": round(seconds, 1),
        "cases": ran,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        junit = Path(scratch) / "adversarial.xml"
        seconds = run_suite(junit)
        summary = summarise(cases(junit), seconds)
    write_results(args.output, {**summary, "machine": describe_machine()})
    print(
        f"{summary['inputs_tried']} hostile inputs, {summary['crashes']} crashes, "
        f"{summary['rows_lost']} rows lost, {summary['clear_value_hits']} clear values found "
        f"→ {args.output}"
    )


if __name__ == "__main__":
    main()
