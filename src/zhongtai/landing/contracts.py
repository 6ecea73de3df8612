"""Data contracts: every field a source may deliver, its type, purpose and legal basis.

A contract is the answer to "why do we hold this field?". Landing refuses anything a
contract does not declare, and no contract may declare a prohibited category (contacts,
SMS, photos, audio, location history): those are never collected, whatever a source sends.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from zhongtai.settings import Settings
from zhongtai.yaml_models import read_yaml_model

FieldType = Literal["string", "int64", "float64", "bool", "timestamp", "date"]
PiiClass = Literal[
    "none",
    "direct_identifier",
    "quasi_identifier",
    "pseudonymous_identifier",
    "financial",
    "sensitive",
]
Treatment = Literal["keep", "pseudonymise", "pseudonymise_and_vault"]

PROHIBITED_FIELD = re.compile(
    r"contact|address_?book|sms|text_message|call_?log|photo|image|picture|camera|"
    r"audio|microphone|voice|recording|location_history|gps|geo_?trace|latitude|longitude",
    re.IGNORECASE,
)

SUBJECT_COLUMN = "applicant_id"


class UnknownSource(KeyError):
    """No contract declares this source."""

    def __str__(self) -> str:
        return str(self.args[0])


class ContractError(ValueError):
    """A contract file is malformed; the message names the file and the field."""


class FieldSpec(BaseModel):
    """One declared field of a source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    type: FieldType
    pii: PiiClass
    purpose: str
    legal_basis: str
    required: bool
    treatment: Treatment = "keep"
    pseudonym_column: str | None = None

    @model_validator(mode="after")
    def _identifiers_never_kept_in_clear(self) -> FieldSpec:
        if self.pii == "direct_identifier" and self.treatment == "keep":
            raise ValueError(
                f"field {self.name!r} is a direct identifier: it must be pseudonymised"
            )
        if self.treatment != "keep" and self.type != "string":
            raise ValueError(f"field {self.name!r}: only string fields can be pseudonymised")
        return self

    @property
    def is_pseudonymised(self) -> bool:
        return self.treatment != "keep"

    @property
    def is_vaulted(self) -> bool:
        return self.treatment == "pseudonymise_and_vault"

    @property
    def output_column(self) -> str:
        """The column name in the raw zone: the pseudonym replaces the clear value."""
        if not self.is_pseudonymised:
            return self.name
        return self.pseudonym_column or f"{self.name}_pseudonym"


class Contract(BaseModel):
    """The data contract of one source, versioned: the version is the raw schema version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    version: int
    description: str
    fields: tuple[FieldSpec, ...]

    @model_validator(mode="after")
    def _check(self) -> Contract:
        names = [field.name for field in self.fields]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"contract {self.source!r} declares {duplicates} more than once")
        prohibited = [name for name in names if PROHIBITED_FIELD.search(name)]
        if prohibited:
            raise ValueError(
                f"contract {self.source!r} declares prohibited fields {prohibited}: contacts, SMS, "
                "photos, audio and location history are never collected"
            )
        vaulted = [field for field in self.fields if field.is_vaulted]
        if vaulted and self.subject_field is None:
            raise ValueError(
                f"contract {self.source!r} vaults fields but names no subject "
                f"(a field with pseudonym_column: {SUBJECT_COLUMN})"
            )
        return self

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    def field(self, name: str) -> FieldSpec:
        return next(field for field in self.fields if field.name == name)

    @property
    def subject_field(self) -> FieldSpec | None:
        """The field whose pseudonym identifies the data subject (the vault's key)."""
        return next(
            (field for field in self.fields if field.pseudonym_column == SUBJECT_COLUMN),
            None,
        )


def read_contract(path: Path) -> Contract:
    """A contract file, checked; ContractError names the file and what is wrong in it."""
    return read_yaml_model(path, Contract, ContractError)


def declared_sources(settings: Settings | None = None) -> tuple[str, ...]:
    """The sources of the project: one per contract file ``contracts/<source>.yml``."""
    contracts = (settings or Settings()).contracts_dir
    return tuple(sorted(path.stem for path in contracts.glob("*.yml")))


def load_contract(source: str, settings: Settings | None = None) -> Contract:
    """The contract of ``source`` in the project; an unknown source is a clear error."""
    contracts = (settings or Settings()).contracts_dir
    path = contracts / f"{source}.yml"
    if not path.is_file():
        known = ", ".join(declared_sources(settings)) or "none"
        raise UnknownSource(
            f"unknown source {source!r}: no contract {path}; the sources are: {known}"
        )
    return _contract_at(path.resolve(), source)


@cache
def _contract_at(path: Path, source: str) -> Contract:
    contract = read_contract(path)
    if contract.source != source:
        raise ContractError(f"{path}: declares source {contract.source!r}, expected {source!r}")
    return contract
