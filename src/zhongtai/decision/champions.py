"""The champion models a decision uses, loaded by alias and swapped without a pause.

At start-up the API loads the ``champion`` of ``credit_pd`` and ``fraud`` from the
registry (``zhongtai.ml.register.load_promoted``): only a version whose promotion record,
signed by the gate with the platform key, names that version and matches the files and
the model code loaded. The alias says which version is wanted; the record says whether
it may serve: an alias set by hand, a digest tag rewritten or a model file or a line of
model code changed is refused and logged. ``refresh`` asks the registry which version
holds the alias now; a promotion is loaded beside the serving pair and swapped in with
one assignment, so a request in flight finishes on the pair it started with and none is
dropped. A failed load leaves the serving pair in place; with none, the API answers 503.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

from zhongtai.decision.schemas import Family
from zhongtai.ml.register import CHAMPION, ModelNotRegistered, RegisteredModel, load_promoted

if TYPE_CHECKING:
    from mlflow import MlflowClient

FAMILIES: tuple[Family, Family] = get_args(Family)
CREDIT, FRAUD = FAMILIES


class ModelsUnavailable(RuntimeError):
    """No champion can be served: the API answers 503, never a decision without a model."""


@dataclass(frozen=True)
class Champions:
    credit: RegisteredModel
    fraud: RegisteredModel

    @property
    def versions(self) -> dict[str, str]:
        """``{family: version}``, as decisions record them."""
        return {CREDIT: self.credit.version, FRAUD: self.fraud.version}


class ChampionSet:
    """The serving pair of champions, and the means to follow the registry."""

    def __init__(
        self, client: MlflowClient, *, key: bytes, log: Callable[[str], None] = print
    ) -> None:
        """``key``: the platform's promotion signing key
        (``zhongtai.privacy.keys.promotion_signing_key``), that the records must verify with."""
        self._client = client
        self._key = key
        self._log = log
        self._current: Champions | None = None
        self._lock = threading.Lock()  # one refresh at a time; reads take no lock

    def current(self) -> Champions:
        """The pair serving now. Raises ModelsUnavailable before any champion loaded."""
        champions = self._current
        if champions is None:
            raise ModelsUnavailable(f"no champion of {CREDIT} and {FRAUD} is loaded")
        return champions

    def refresh(self) -> bool:
        """Load the registry's champions if they changed; True when a new pair serves.

        Raises ModelsUnavailable only when nothing serves yet and the champions cannot be
        loaded; later failures are logged and the serving pair stays.
        """
        with self._lock:
            serving = self._current
            try:
                wanted = {
                    family: str(self._client.get_model_version_by_alias(family, CHAMPION).version)
                    for family in FAMILIES
                }
                if serving is not None and wanted == serving.versions:
                    return False
                loaded = Champions(
                    credit=self._load(CREDIT, wanted[CREDIT], serving),
                    fraud=self._load(FRAUD, wanted[FRAUD], serving),
                )
            except Exception as error:  # the registry or a model file is unavailable
                if serving is None:
                    self._log(f"no champion served: {error}")
                    raise ModelsUnavailable(f"champions cannot be loaded: {error}") from error
                self._log(f"keeping {serving.versions}: {error}")
                return False
            self._current = loaded
            self._log(f"serving champions {loaded.versions}")
            return True

    def _load(self, family: str, version: str, serving: Champions | None) -> RegisteredModel:
        if serving is not None:
            current = serving.credit if family == CREDIT else serving.fraud
            if current.version == version:
                return current
        try:
            return load_promoted(self._client, family, version, self._key)
        except ModelNotRegistered as error:
            raise ModelsUnavailable(str(error)) from error
