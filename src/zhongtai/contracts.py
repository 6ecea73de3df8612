"""Data contracts: every field a source may deliver, its type, purpose and legal basis.

A contract is the answer to "why do we hold this field?". Landing refuses anything a
contract does not declare, and no contract may declare a prohibited category (contacts,
SMS, photos, audio, location history): those are never collected, whatever a source sends.

A contract also says two things the rest of the platform reads:

- ``record_key``: for a source that delivers no key of its own, the key column landing
  derives from each row's values (``landing/keys.py``), landed like a delivered key.
- ``protected`` on a field: the protected characteristic (age, sex, marital status,
  ethnicity, region) the field is or stands in for, and ``derived_columns``, the columns
  downstream (dbt) that carry the same characteristic under another name.
  ``protected_fields`` maps every such column to its characteristics for the model side.
- ``treatment`` on a quasi-identifier: ``coarsen_to_age`` lands a birth date as the age
  in whole years at ``age_at`` (``coarsened_column``, e.g. ``age_years``), and
  ``coarsen_to_region`` a division code as its region (the first ``REGION_DIGITS``
  digits): the finer value goes no further than landing (``landing/coarsen.py``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from zhongtai.settings import Settings
from zhongtai.yaml_models import read_yaml_model

if TYPE_CHECKING:
    import pyarrow as pa

FieldType = Literal["string", "int64", "float64", "bool", "timestamp", "date"]
PiiClass = Literal[
    "none",
    "direct_identifier",
    "quasi_identifier",
    "pseudonymous_identifier",
    "financial",
    "sensitive",
]
Treatment = Literal[
    "keep", "pseudonymise", "pseudonymise_and_vault", "coarsen_to_age", "coarsen_to_region"
]
PSEUDONYMISED: tuple[Treatment, ...] = ("pseudonymise", "pseudonymise_and_vault")
COARSENED: tuple[Treatment, ...] = ("coarsen_to_age", "coarsen_to_region")
# A division code (6 digits: province, prefecture-level city, county) coarsened to its
# region keeps the province and the city: the fairness gate's groups (ml/*.yml), never
# the county, which with an age narrows an applicant to a few thousand candidate IDs.
REGION_DIGITS = 4
ProtectedCharacteristic = Literal["age", "sex", "marital_status", "ethnicity", "region"]
PROTECTED_CHARACTERISTICS: tuple[ProtectedCharacteristic, ...] = get_args(ProtectedCharacteristic)
DuplicateRows = Literal["number", "refuse"]
# Personal data found by value (``privacy/scan.py``); a field declares with ``may_hold`` the
# kinds it is for, every other kept string field is refused when it holds one.
PersonalKind = Literal["national_id", "mobile", "bank_card", "email"]
PERSONAL_KINDS: tuple[PersonalKind, ...] = get_args(PersonalKind)
DIGIT_KINDS: tuple[PersonalKind, ...] = ("national_id", "mobile", "bank_card")
# Characters a string field may hold when its contract sets no ``max_length``.
DEFAULT_MAX_LENGTH = 256

# The landed shape of a source, beside its contract's fields: what landing writes and the
# warehouse and the gates read.
BATCH_ID_COLUMN = "_batch_id"
LOADED_AT_COLUMN = "_loaded_at"
DATA_NAME = "part-0.parquet"  # one data file per batch folder of the raw zone


@cache
def arrow_types() -> dict[str, pa.DataType]:
    """The Arrow type each contract field type lands as."""
    import pyarrow as pa

    return {
        "string": pa.string(),
        "int64": pa.int64(),
        "float64": pa.float64(),
        "bool": pa.bool_(),
        # Microseconds: downstream readers (Feast's DuckDB store) refuse nanosecond TIMESTAMPTZ.
        "timestamp": pa.timestamp("us", tz="UTC"),
        "date": pa.date32(),
    }


PROHIBITED_FIELD = re.compile(
    r"contact|address_?book|sms|text_message|call_?log|photo|image|picture|camera|"
    r"audio|microphone|voice|recording|location_history|gps|geo_?trace|latitude|longitude",
    re.IGNORECASE,
)

SUBJECT_COLUMN = "applicant_id"
COLUMN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


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
    # Coarsened fields: the landed column (default: the field's own name) and, for
    # coarsen_to_age, the timestamp field the age is taken at.
    coarsened_column: str | None = None
    age_at: str | None = None
    # The protected characteristics this field is or stands in for (a proxy such as a
    # city code for region); one name or a list, e.g. [sex, marital_status].
    protected: tuple[ProtectedCharacteristic, ...] = ()
    # Columns downstream (dbt staging, marts) computed from this field that carry the same
    # characteristics under another name, e.g. age_years from birth_date.
    derived_columns: tuple[str, ...] = ()
    # Strings only: the longest value accepted (default DEFAULT_MAX_LENGTH characters).
    max_length: int | None = Field(default=None, gt=0)
    # Strings only: the kinds of personal data this field is for (not scanned for them);
    # e.g. bank_card on a random hex install id, which can read as a Luhn-valid number.
    may_hold: tuple[PersonalKind, ...] = ()
    # Strings only: the closed list of values accepted (e.g. event types); anything else,
    # a prohibited category above all, refuses the file.
    allowed_values: tuple[str, ...] | None = None

    @field_validator("protected", "may_hold", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _string_limits(self) -> FieldSpec:
        if self.type != "string":
            named = [
                name
                for name, value in (
                    ("max_length", self.max_length),
                    ("may_hold", self.may_hold),
                    ("allowed_values", self.allowed_values),
                )
                if value
            ]
            if named:
                raise ValueError(f"field {self.name!r}: {', '.join(named)} apply to strings only")
        prohibited = [v for v in self.allowed_values or () if PROHIBITED_FIELD.search(v)]
        if prohibited:
            raise ValueError(
                f"field {self.name!r}: allowed_values {prohibited} name prohibited categories "
                "(contacts, SMS, call logs, photos, audio, location history)"
            )
        return self

    @property
    def length_limit(self) -> int | None:
        """The longest value landing accepts: strings only."""
        if self.type != "string":
            return None
        return self.max_length or DEFAULT_MAX_LENGTH

    @property
    def scanned_kinds(self) -> tuple[PersonalKind, ...]:
        """The kinds of personal data landing looks for in this field's values: every kind
        it is not declared for, in a value kept in clear (a pseudonymised value never
        lands); in an integer, those written in digits alone (an ID as a number)."""
        if self.is_pseudonymised or self.type not in ("string", "int64"):
            return ()
        kinds = PERSONAL_KINDS if self.type == "string" else DIGIT_KINDS
        return tuple(kind for kind in kinds if kind not in self.may_hold)

    @model_validator(mode="after")
    def _identifiers_never_kept_in_clear(self) -> FieldSpec:
        if self.pii == "direct_identifier" and not self.is_pseudonymised:
            raise ValueError(
                f"field {self.name!r} is a direct identifier: it must be pseudonymised"
            )
        if self.is_pseudonymised and self.type != "string":
            raise ValueError(f"field {self.name!r}: only string fields can be pseudonymised")
        return self

    @model_validator(mode="after")
    def _coarsening_declared(self) -> FieldSpec:
        expected = {"coarsen_to_age": "date", "coarsen_to_region": "string"}.get(self.treatment)
        if expected is not None and self.type != expected:
            raise ValueError(f"field {self.name!r}: {self.treatment} applies to {expected} fields")
        if (self.treatment == "coarsen_to_age") != (self.age_at is not None):
            raise ValueError(
                f"field {self.name!r}: age_at (the timestamp field the age is taken at) goes "
                "with treatment coarsen_to_age, and only with it"
            )
        if self.coarsened_column is not None:
            if not self.is_coarsened:
                raise ValueError(
                    f"field {self.name!r}: coarsened_column goes with a coarsen_ treatment only"
                )
            if not COLUMN_NAME.fullmatch(self.coarsened_column):
                raise ValueError(
                    f"field {self.name!r}: coarsened column {self.coarsened_column!r} is not a "
                    "column name (lowercase letters, digits and _)"
                )
        return self

    @model_validator(mode="after")
    def _protected_columns_named(self) -> FieldSpec:
        if len(set(self.protected)) != len(self.protected):
            raise ValueError(f"field {self.name!r}: protected lists a characteristic twice")
        if self.derived_columns and not self.protected:
            raise ValueError(
                f"field {self.name!r}: derived_columns carry a protected characteristic "
                "downstream; name it with protected: (one of "
                f"{', '.join(PROTECTED_CHARACTERISTICS)})"
            )
        for column in self.derived_columns:
            if not COLUMN_NAME.fullmatch(column):
                raise ValueError(
                    f"field {self.name!r}: derived column {column!r} is not a column name "
                    "(lowercase letters, digits and _)"
                )
        if self.output_column in self.derived_columns:
            raise ValueError(
                f"field {self.name!r}: derived column {self.output_column!r} is the landed "
                "column itself; list only the other names it takes downstream"
            )
        return self

    @property
    def is_pseudonymised(self) -> bool:
        return self.treatment in PSEUDONYMISED

    @property
    def is_coarsened(self) -> bool:
        return self.treatment in COARSENED

    @property
    def landed_type(self) -> FieldType:
        """The type of the landed column: a pseudonym and a region are strings, an age a
        whole number; any other field lands as declared."""
        if self.is_pseudonymised or self.treatment == "coarsen_to_region":
            return "string"
        if self.treatment == "coarsen_to_age":
            return "int64"
        return self.type

    @property
    def is_vaulted(self) -> bool:
        return self.treatment == "pseudonymise_and_vault"

    @property
    def output_column(self) -> str:
        """The column name in the raw zone: the pseudonym replaces the clear value, the
        coarser value the finer one."""
        if self.is_coarsened:
            return self.coarsened_column or self.name
        if not self.is_pseudonymised:
            return self.name
        return self.pseudonym_column or f"{self.name}_pseudonym"

    @property
    def protected_columns(self) -> tuple[str, ...]:
        """Every column that carries this field's protected characteristics: the landed
        one and its derived columns (none when the field is not protected)."""
        if not self.protected:
            return ()
        return (self.output_column, *self.derived_columns)


class RecordKey(BaseModel):
    """How landing derives the record key of a source that delivers none.

    ``column`` is a field of the contract (a string, no PII, kept) that the delivery must
    not carry; its value is a hash of the row's ``derive_from`` fields (every delivered
    field when omitted). ``duplicates`` says what happens to rows whose fields give the
    same key: ``number`` them by occurrence (the first keeps the plain key, each repeat
    gets its own) or ``refuse`` the file.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str
    derive_from: tuple[str, ...] | None = None
    duplicates: DuplicateRows = "number"

    @field_validator("derive_from")
    @classmethod
    def _not_empty(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and not value:
            raise ValueError("name at least one field, or omit derive_from to use them all")
        if value is not None and len(set(value)) != len(value):
            raise ValueError("a field is named twice")
        return value


class IdentityCheck(BaseModel):
    """Which fields landing checks a national ID with (``privacy/identity.py``).

    ``national_id``: a field whose values must be valid IDs (check character, birth date).
    ``birth_date``: a declared birth date that must agree with the ID's. ``applied_at``:
    the moment at which the holder must be of age (``MIN_AGE_YEARS``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    national_id: str
    birth_date: str | None = None
    applied_at: str | None = None


class Contract(BaseModel):
    """The data contract of one source, versioned: the version is the raw schema version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    version: int
    description: str
    fields: tuple[FieldSpec, ...]
    record_key: RecordKey | None = None
    identity: IdentityCheck | None = None

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
        if self.record_key is not None:
            self._check_record_key(self.record_key, names)
        if self.identity is not None:
            self._check_identity(self.identity, names)
        for field in self.fields:
            if field.age_at is not None and (
                field.age_at not in names or self.field(field.age_at).type != "timestamp"
            ):
                raise ValueError(
                    f"field {field.name!r}: age_at {field.age_at!r} is not a timestamp field "
                    "of the contract"
                )
        landed = [field.output_column for field in self.fields]
        clashes = sorted({name for name in landed if landed.count(name) > 1})
        if clashes:
            raise ValueError(f"contract {self.source!r} lands {clashes} from more than one field")
        return self

    def _check_identity(self, identity: IdentityCheck, names: list[str]) -> None:
        expected = {"national_id": "string", "birth_date": "date", "applied_at": "timestamp"}
        for role, type_ in expected.items():
            name = getattr(identity, role)
            if name is None:
                continue
            if name not in names:
                raise ValueError(f"identity.{role} {name!r} is not a field of the contract")
            if self.field(name).type != type_:
                raise ValueError(f"identity.{role} {name!r} must be a {type_} field")

    def _check_record_key(self, key: RecordKey, names: list[str]) -> None:
        if key.column not in names:
            raise ValueError(
                f"record_key.column {key.column!r} is not a field of the contract: declare it "
                "in fields (type: string, pii: none) with its purpose and legal basis"
            )
        spec = self.field(key.column)
        if spec.type != "string" or spec.pii != "none" or spec.is_pseudonymised:
            raise ValueError(
                f"record_key.column {key.column!r}: a derived key is a string with pii: none, "
                f"kept as landed (got type {spec.type}, pii {spec.pii}, treatment {spec.treatment})"
            )
        unknown = [name for name in key.derive_from or () if name not in names]
        if unknown:
            raise ValueError(f"record_key.derive_from names undeclared fields {unknown}")
        if key.column in (key.derive_from or ()):
            raise ValueError(
                f"record_key.derive_from names the key {key.column!r} itself: it is derived, "
                "not delivered"
            )

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(field.name for field in self.fields)

    @property
    def derived_key(self) -> str | None:
        """The key column landing derives (``record_key.column``), if the source has one."""
        return self.record_key.column if self.record_key else None

    @property
    def delivered_fields(self) -> tuple[FieldSpec, ...]:
        """The fields a delivered file carries: all of them but a derived key."""
        return tuple(field for field in self.fields if field.name != self.derived_key)

    @property
    def key_fields(self) -> tuple[FieldSpec, ...]:
        """The delivered fields a derived key is computed from, in the order hashed."""
        if self.record_key is None:
            return ()
        if self.record_key.derive_from is None:
            return self.delivered_fields
        return tuple(self.field(name) for name in self.record_key.derive_from)

    @property
    def protected_columns(self) -> dict[str, tuple[ProtectedCharacteristic, ...]]:
        """Each column of this source, as landed or derived downstream, that carries a
        protected characteristic, with the characteristics it carries."""
        columns: dict[str, tuple[ProtectedCharacteristic, ...]] = {}
        for field in self.fields:
            for column in field.protected_columns:
                columns[column] = _union(columns.get(column, ()), field.protected)
        return columns

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


def protected_fields(
    settings: Settings | None = None,
) -> dict[str, tuple[ProtectedCharacteristic, ...]]:
    """Every column of the project that carries a protected characteristic, with the
    characteristics it carries, from every contract.

    A column is named as it is landed (the pseudonym column for a pseudonymised field)
    and under each of its field's ``derived_columns`` (the names dbt gives it downstream,
    e.g. ``age_years`` for ``birth_date``); staging and marts that keep a column's name
    need no entry. A name used by several sources carries the union of their
    characteristics, in the order of ``PROTECTED_CHARACTERISTICS``.
    """
    columns: dict[str, tuple[ProtectedCharacteristic, ...]] = {}
    for source in declared_sources(settings):
        for column, characteristics in load_contract(source, settings).protected_columns.items():
            columns[column] = _union(columns.get(column, ()), characteristics)
    return dict(sorted(columns.items()))


def _union(
    first: tuple[ProtectedCharacteristic, ...], second: tuple[ProtectedCharacteristic, ...]
) -> tuple[ProtectedCharacteristic, ...]:
    return tuple(name for name in PROTECTED_CHARACTERISTICS if name in first or name in second)


@cache
def _contract_at(path: Path, source: str) -> Contract:
    contract = read_contract(path)
    if contract.source != source:
        raise ContractError(f"{path}: declares source {contract.source!r}, expected {source!r}")
    return contract
