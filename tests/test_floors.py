"""The package's floors: a module imports only from its own floor or below, and no two
rooms import each other, not even from inside a function body (CONVENTIONS.md)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "src" / "zhongtai"

# From the ground up; a room is a top-level module or subpackage of zhongtai.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("settings",),
    ("yaml_models", "duck", "atomic", "feature_tables", "environ", "logs", "clock"),
    ("contracts",),
    ("serving", "assets", "stores"),
    ("sources", "privacy", "warehouse"),
    ("landing", "graph", "airflow_env"),
    ("quality",),
    ("features",),
    ("ml",),
    ("decision",),
    ("api",),
    ("cli",),
)
FLOOR_OF = {room: level for level, rooms in enumerate(FLOORS) for room in rooms}


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "zhongtai" and len(parts) > 1 else None


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every zhongtai module a file imports, at module level or inside a function."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "zhongtai":
                yield from ((node.lineno, f"zhongtai.{alias.name}") for alias in node.names)
            else:
                yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)


def _room_imports() -> Iterator[tuple[str, str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        source = ".".join(("zhongtai", *path.relative_to(PACKAGE).with_suffix("").parts))
        room = _room(source)
        if room in (None, "__init__"):
            continue
        for line, target in _imports(path):
            to = _room(target)
            if to is not None and to != room and to != "__version__":
                yield f"{path.relative_to(PACKAGE.parent)}:{line}", room, to


def test_every_room_has_a_floor() -> None:
    rooms = {path.stem if path.is_file() else path.name for path in PACKAGE.iterdir()}
    rooms -= {"__init__", "__pycache__"}
    assert rooms - FLOOR_OF.keys() == set()


def test_no_room_imports_a_higher_floor() -> None:
    upward = [
        f"{where}: {room} (floor {FLOOR_OF[room]}) imports {to} (floor {FLOOR_OF[to]})"
        for where, room, to in _room_imports()
        if FLOOR_OF[to] > FLOOR_OF[room]
    ]
    assert upward == []


def test_no_two_rooms_import_each_other() -> None:
    graph: dict[str, set[str]] = {}
    for _, room, to in _room_imports():
        graph.setdefault(room, set()).add(to)
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"rooms import each other: {' -> '.join(error.args[1])}")


def test_the_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from zhongtai.api.main import app\n")
    assert list(_imports(module)) == [(2, "zhongtai.api.main")]
