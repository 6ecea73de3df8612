"""YAML files read as typed models (specs of ml/, rules of policy/, contracts, suites).

One reader, so every such file fails the same way: the message names the file and, for
a wrong value, its dotted field and what was given.
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loaded = TypeVar("Loaded", bound=BaseModel)


def read_yaml_model(path: Path, model: type[Loaded], error: type[ValueError]) -> Loaded:
    """A YAML file validated as ``model``; ``error`` names the file, and for a wrong
    value its dotted field (the specs of ml/, the rules of policy/)."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as problem:
        raise error(f"{path}: not valid YAML: {problem}") from problem
    if not isinstance(document, dict):
        raise error(f"{path}: expected a mapping of fields, got {type(document).__name__}")
    try:
        return model.model_validate(document)
    except ValidationError as problem:
        raise error(describe_errors(path, problem)) from problem


def describe_errors(path: Path, error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        message = problem["msg"].removeprefix("Value error, ")
        given = problem.get("input")
        shown = "" if isinstance(given, dict | list) or given is None else f" (got {given!r})"
        lines.append(f"{path}: {where}: {message}{shown}")
    return "\n".join(lines)
