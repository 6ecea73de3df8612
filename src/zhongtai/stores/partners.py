"""Partner institutions: who may call the API, with which key, for what, how often.

A partner (a bank, a consumer-finance company) reads features and scores for its own
applicants only, through the feature services in its ``scopes`` and for the ``purposes``
it may act for. Every check runs on each request, so each is a dictionary lookup or one
indexed SQLite read, well under the API's time budget.

API keys are shown once, when issued, and only their SHA-256 is stored (with a short
prefix to tell keys apart in listings and revoke one). Salted, deliberately slow hashes
(bcrypt, scrypt) protect *passwords*, which people choose from a guessable space; a key
here is 256 random bits, so no dictionary or precomputed table covers it and one fast
SHA-256 is as strong as any of them. Being unsalted, the hash is also the key's lookup
index: authentication is one point lookup, not a scan.

A partner learns nothing about applicants it did not submit: "never submitted by you"
is answered the same whether or not another partner knows the applicant.

The API process keeps one :class:`PartnerStore`; authenticated keys are cached in memory.
Revoking or deactivating through the same store drops the cache at once, and a change made
by another process (``zhongtai partners revoke``) is seen on the next request: SQLite's
``data_version`` tells whether anyone else wrote since the last look.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypedDict, Unpack

from zhongtai.stores.sqlite import PrivateSqlite, SqliteStore, check_pseudonym, utc_now

if TYPE_CHECKING:
    from zhongtai.settings import Settings

SCHEMA_VERSION = 1
KEY_PREFIX = "zt_"
KEY_RANDOM_BYTES = 32  # 256 bits
SHOWN_KEY_CHARS = len(KEY_PREFIX) + 8  # "zt_" + 48 random bits: enough to tell keys apart
_MAX_KEY_CHARS = 128
_SLUG = re.compile(r"[a-z][a-z0-9_-]{0,63}")
# The scope of an operations key (metrics), beside the feature services partners read.
OPERATIONS_SCOPE = "operations"

_SCHEMA = f"""
BEGIN IMMEDIATE;
CREATE TABLE IF NOT EXISTS partners (
    partner_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scopes TEXT NOT NULL,
    purposes TEXT NOT NULL,
    rate_limit_per_minute INTEGER NOT NULL CHECK (rate_limit_per_minute > 0),
    created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash BLOB PRIMARY KEY,
    key_prefix TEXT NOT NULL,
    partner_id TEXT NOT NULL REFERENCES partners (partner_id),
    created_at TEXT NOT NULL,
    revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_keys_by_prefix ON api_keys (key_prefix);
CREATE TABLE IF NOT EXISTS submissions (
    partner_id TEXT NOT NULL REFERENCES partners (partner_id),
    applicant_id TEXT NOT NULL,
    purposes TEXT NOT NULL,
    submitted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS submissions_by_applicant ON submissions (partner_id, applicant_id);
PRAGMA user_version = {SCHEMA_VERSION};
COMMIT;
"""

_PARTNER_COLUMNS = "p.partner_id, p.name, p.scopes, p.purposes, p.rate_limit_per_minute, " + (
    "p.created_at, p.active"
)


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner institution and what it may do."""

    partner_id: str
    name: str
    scopes: frozenset[str]  # feature services it may read
    purposes: frozenset[str]  # purposes it may act for
    rate_limit_per_minute: int
    created_at: str
    active: bool


class PartnerTerms(TypedDict):
    """What a partner is registered to do, as given when it is added."""

    scopes: Iterable[str]  # feature services it may read
    purposes: Iterable[str]  # purposes it may act for
    rate_limit_per_minute: int


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """What is known of a key after it was shown: never the key itself."""

    key_prefix: str
    partner_id: str
    created_at: str
    revoked_at: str | None


class Refusal(Enum):
    """Why a partner may not read or decide for an applicant."""

    PURPOSE_NOT_IN_SCOPE = "purpose_not_in_scope"
    FEATURE_SERVICE_NOT_IN_SCOPE = "feature_service_not_in_scope"
    UNKNOWN_APPLICANT = "unknown_applicant"
    NO_CONSENT = "no_consent"

    @property
    def http_status(self) -> int:
        """404 for an applicant the partner never submitted (as if it did not exist,
        so a partner cannot probe for others' applicants); 403 for scope and consent."""
        return 404 if self is Refusal.UNKNOWN_APPLICANT else 403


@dataclass(frozen=True, slots=True)
class Access:
    """The answer of :meth:`PartnerStore.access`: allowed, or the refusal and why."""

    refusal: Refusal | None
    message: str

    @property
    def allowed(self) -> bool:
        return self.refusal is None


ALLOWED = Access(None, "allowed")


def partners_path(settings: Settings) -> Path:
    """The partner registry: partners, hashed API keys, submissions and consents (SQLite)."""
    return settings.data_dir / "api" / "partners.db"


class PartnerStore(SqliteStore[PrivateSqlite]):
    """Partners, their keys and the applicants they submitted; one per process, shared by
    its threads. Open with :meth:`PartnerStore.open`, preferably as a context manager."""

    def __init__(self, database: PrivateSqlite) -> None:
        self._database = database
        self._connection = database.connection
        self._lock = database.lock
        self.path = database.path
        self._authenticated: dict[bytes, Partner] = {}
        self._data_version = self._read_data_version()

    @classmethod
    def open(cls, path: Path, *, busy_timeout: float = 30.0) -> Self:
        """Open (creating if needed, mode 0600 in a 0700 folder) the registry at ``path``;
        a write waits up to ``busy_timeout`` seconds for another writer's lock."""
        return cls(
            PrivateSqlite(
                Path(path),
                _SCHEMA,
                SCHEMA_VERSION,
                what="partner registry",
                busy_timeout=busy_timeout,
                pragmas=("secure_delete = ON",),  # erased submissions are zeroed on disk
            )
        )

    # --- administration -------------------------------------------------------------

    def create_partner(
        self, partner_id: str, name: str, **terms: Unpack[PartnerTerms]
    ) -> tuple[Partner, str]:
        """Register a partner and issue its first key in one transaction.

        Returns the partner and the key, which is shown this once and never again.
        """
        rate_limit_per_minute = terms["rate_limit_per_minute"]
        partner = Partner(
            partner_id=_slug(partner_id, "partner id"),
            name=name.strip(),
            scopes=frozenset(_slug(scope, "scope (feature service)") for scope in terms["scopes"]),
            purposes=frozenset(_slug(purpose, "purpose") for purpose in terms["purposes"]),
            rate_limit_per_minute=rate_limit_per_minute,
            created_at=utc_now(),
            active=True,
        )
        if not partner.name:
            raise ValueError(f"partner {partner_id!r} needs a name")
        if rate_limit_per_minute < 1:
            raise ValueError(
                f"partner {partner_id!r}: rate_limit_per_minute must be at least 1, "
                f"got {rate_limit_per_minute}"
            )
        with self._write_transaction():
            exists = self._connection.execute(
                "SELECT 1 FROM partners WHERE partner_id = ?", (partner.partner_id,)
            ).fetchone()
            if exists:
                raise ValueError(f"partner {partner.partner_id!r} already exists")
            self._connection.execute(
                "INSERT INTO partners (partner_id, name, scopes, purposes, "
                "rate_limit_per_minute, created_at, active) VALUES (?, ?, ?, ?, ?, ?, 1)",
                (
                    partner.partner_id,
                    partner.name,
                    json.dumps(sorted(partner.scopes)),
                    json.dumps(sorted(partner.purposes)),
                    partner.rate_limit_per_minute,
                    partner.created_at,
                ),
            )
            key = self._insert_key(partner.partner_id)
        return partner, key

    def issue_key(self, partner_id: str) -> str:
        """A new key for an active partner (e.g. to rotate: issue, then revoke the old one).

        Returned this once; only its hash and prefix are kept.
        """
        with self._write_transaction():
            partner = self._connection.execute(
                "SELECT active FROM partners WHERE partner_id = ?", (partner_id,)
            ).fetchone()
            if partner is None or not partner[0]:
                raise KeyError(f"no active partner {partner_id!r} to issue a key to")
            return self._insert_key(partner_id)

    def revoke_key(self, key_prefix: str) -> ApiKeyInfo:
        """Revoke the key shown as ``key_prefix`` (as listed); it stops working at once."""
        with self._write_transaction():
            found = self._connection.execute(
                "SELECT key_hash, partner_id, created_at, revoked_at FROM api_keys "
                "WHERE key_prefix = ?",
                (key_prefix,),
            ).fetchall()
            if len(found) != 1:
                raise KeyError(
                    f"no key starts with {key_prefix!r}"
                    if not found
                    else f"{len(found)} keys start with {key_prefix!r}: revoke by partner"
                )
            key_hash, partner_id, created_at, revoked_at = found[0]
            if revoked_at is None:
                revoked_at = utc_now()
                self._connection.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?", (revoked_at, key_hash)
                )
        return ApiKeyInfo(key_prefix, partner_id, created_at, revoked_at)

    def deactivate(self, partner_id: str) -> None:
        """Stop a partner altogether: none of its keys authenticates any more."""
        with self._write_transaction():
            updated = self._connection.execute(
                "UPDATE partners SET active = 0 WHERE partner_id = ?", (partner_id,)
            ).rowcount
            if not updated:
                raise KeyError(f"no partner {partner_id!r}")

    def partners(self) -> list[Partner]:
        """Every partner, active or not, by id."""
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {_PARTNER_COLUMNS} FROM partners p ORDER BY p.partner_id"
            ).fetchall()
        return [_partner(row) for row in rows]

    def keys(self, partner_id: str | None = None) -> list[ApiKeyInfo]:
        """Keys as listed to operators: prefix, partner, issued, revoked; never the key."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT key_prefix, partner_id, created_at, revoked_at FROM api_keys "
                "WHERE ? IS NULL OR partner_id = ? ORDER BY partner_id, created_at",
                (partner_id, partner_id),
            ).fetchall()
        return [ApiKeyInfo(*row) for row in rows]

    # --- the request path -----------------------------------------------------------

    def authenticate(self, api_key: str) -> Partner | None:
        """The active partner whose unrevoked key this is, or None."""
        if not api_key.startswith(KEY_PREFIX) or len(api_key) > _MAX_KEY_CHARS:
            return None
        digest = hashlib.sha256(api_key.encode()).digest()
        with self._lock:
            data_version = self._read_data_version()
            if data_version != self._data_version:  # another process wrote: maybe a revoke
                self._authenticated.clear()
                self._data_version = data_version
            partner = self._authenticated.get(digest)
            if partner is not None:
                return partner
            row = self._connection.execute(
                f"SELECT k.key_hash, {_PARTNER_COLUMNS} FROM api_keys k "
                "JOIN partners p ON p.partner_id = k.partner_id "
                "WHERE k.key_hash = ? AND k.revoked_at IS NULL AND p.active = 1",
                (digest,),
            ).fetchone()
            # The index found it by equality; compare again in constant time all the same.
            if row is None or not hmac.compare_digest(row[0], digest):
                return None
            partner = self._authenticated[digest] = _partner(row[1:])
            return partner

    def record_submission(
        self, partner: Partner, applicant_id: str, consented_purposes: Iterable[str]
    ) -> None:
        """Record that ``partner`` submitted an application of ``applicant_id`` (a
        pseudonym) and the purposes the applicant consented to with it.

        The latest submission's consent is the one that counts: an applicant who
        consents to less next time has withdrawn the rest.
        """
        check_pseudonym(applicant_id)
        purposes = sorted({_slug(purpose, "consented purpose") for purpose in consented_purposes})
        with self._database.transaction() as connection:
            connection.execute(
                "INSERT INTO submissions (partner_id, applicant_id, purposes, submitted_at) "
                "VALUES (?, ?, ?, ?)",
                (partner.partner_id, applicant_id, json.dumps(purposes), utc_now()),
            )

    def erase_subject(self, applicant_id: str) -> int:
        """Delete every submission (and so consent) of ``applicant_id`` (a pseudonym), of
        every partner; returns how many."""
        check_pseudonym(applicant_id)
        with self._database.transaction() as connection:
            deleted = connection.execute(
                "DELETE FROM submissions WHERE applicant_id = ?", (applicant_id,)
            ).rowcount
        self._database.checkpoint()
        return int(deleted)

    def access(
        self,
        partner: Partner,
        applicant_id: str,
        purpose: str,
        feature_service: str | None = None,
    ) -> Access:
        """May ``partner`` act on ``applicant_id`` for ``purpose`` (reading
        ``feature_service`` if given)? Checks scope first (no I/O), then the applicant."""
        if purpose not in partner.purposes:
            return Access(
                Refusal.PURPOSE_NOT_IN_SCOPE,
                f"partner {partner.partner_id!r} may not act for purpose {purpose!r}; "
                f"its purposes: {', '.join(sorted(partner.purposes)) or 'none'}",
            )
        if feature_service is not None and feature_service not in partner.scopes:
            return Access(
                Refusal.FEATURE_SERVICE_NOT_IN_SCOPE,
                f"partner {partner.partner_id!r} may not read feature service "
                f"{feature_service!r}; its scopes: {', '.join(sorted(partner.scopes)) or 'none'}",
            )
        consented = self.consented_purposes(partner, applicant_id)
        if consented is None:
            return Access(
                Refusal.UNKNOWN_APPLICANT,
                f"applicant {applicant_id} is unknown to you: partner {partner.partner_id!r} "
                "never submitted an application for them",
            )
        if purpose not in consented:
            return Access(
                Refusal.NO_CONSENT,
                f"applicant {applicant_id} did not consent to {purpose!r} in their latest "
                f"application to partner {partner.partner_id!r}",
            )
        return ALLOWED

    def consented_purposes(self, partner: Partner, applicant_id: str) -> frozenset[str] | None:
        """The purposes of the applicant's latest submission to ``partner``; None if the
        partner never submitted this applicant."""
        with self._lock:
            row = self._connection.execute(
                "SELECT purposes FROM submissions WHERE partner_id = ? AND applicant_id = ? "
                "ORDER BY rowid DESC LIMIT 1",
                (partner.partner_id, applicant_id),
            ).fetchone()
        return None if row is None else frozenset(json.loads(row[0]))

    # --- internals ------------------------------------------------------------------

    def _insert_key(self, partner_id: str) -> str:
        key = KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)
        self._connection.execute(
            "INSERT INTO api_keys (key_hash, key_prefix, partner_id, created_at) "
            "VALUES (?, ?, ?, ?)",
            (hashlib.sha256(key.encode()).digest(), key[:SHOWN_KEY_CHARS], partner_id, utc_now()),
        )
        return key

    def _read_data_version(self) -> int:
        return int(self._connection.execute("PRAGMA data_version").fetchone()[0])

    @contextmanager
    def _write_transaction(self) -> Iterator[None]:
        """One transaction; the authentication cache is dropped after it, since a write
        may have revoked a key or deactivated a partner."""
        with self._database.transaction():
            yield
            self._authenticated.clear()


# --- the `zhongtai partners` commands' bodies ----------------------------------------


def partners_add(
    settings: Settings, partner_id: str, name: str, **terms: Unpack[PartnerTerms]
) -> tuple[Partner, str]:
    """``zhongtai partners add``: register a partner; returns it and its key (shown once)."""
    with PartnerStore.open(partners_path(settings)) as store:
        return store.create_partner(partner_id, name, **terms)


def partners_list(settings: Settings) -> list[tuple[Partner, list[ApiKeyInfo]]]:
    """``zhongtai partners list``: every partner with its keys' prefixes (never a key)."""
    with PartnerStore.open(partners_path(settings)) as store:
        keys = store.keys()
        return [
            (partner, [key for key in keys if key.partner_id == partner.partner_id])
            for partner in store.partners()
        ]


def partners_revoke(settings: Settings, key_prefix: str) -> ApiKeyInfo:
    """``zhongtai partners revoke``: revoke one key by the prefix ``partners list`` shows."""
    with PartnerStore.open(partners_path(settings)) as store:
        return store.revoke_key(key_prefix)


def _partner(row: tuple[Any, ...]) -> Partner:
    partner_id, name, scopes, purposes, rate_limit, created_at, active = row
    return Partner(
        partner_id=str(partner_id),
        name=str(name),
        scopes=frozenset(json.loads(str(scopes))),
        purposes=frozenset(json.loads(str(purposes))),
        rate_limit_per_minute=int(rate_limit),
        created_at=str(created_at),
        active=bool(active),
    )


def _slug(value: str, what: str) -> str:
    if not _SLUG.fullmatch(value):
        raise ValueError(
            f"{what} {value!r} is not a slug: lowercase letters, digits, '_' or '-', "
            "starting with a letter, at most 64 characters"
        )
    return value
