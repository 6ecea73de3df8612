"""Privacy at the door: no identifier leaves landing in clear.

Direct identifiers become keyed HMAC pseudonyms (the join keys downstream); where a
contract says the clear value must be kept, it goes into the encrypted vault, keyed by
the subject's pseudonym, and only there. Quasi-identifiers a contract coarsens land as
the coarser value (``coarsen.py``): an age for a birth date, a region for a city.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from zhongtai.contracts import Contract
from zhongtai.landing.coarsen import coarsened
from zhongtai.privacy.keys import KeyRing
from zhongtai.privacy.pseudonyms import pseudonymise
from zhongtai.privacy.vault import Vault


def protect(table: pa.Table, contract: Contract, keyring: KeyRing, vault: Vault | None) -> pa.Table:
    """Replace each pseudonymised field by its pseudonym column, vaulting where declared,
    and each coarsened field by its coarser column."""
    pseudonyms = {
        field.name: pseudonymise(
            table.column(field.name), kind=field.name, key=keyring.pseudonym_key
        )
        for field in contract.fields
        if field.is_pseudonymised
    }
    subject = contract.subject_field
    if subject is not None and vault is not None:  # an erased subject never lands again
        erased = vault.erased(pseudonyms[subject.name].to_pylist())
        if erased:
            keep = pc.invert(pc.is_in(pseudonyms[subject.name], pa.array(sorted(erased))))
            table = table.filter(keep)
            pseudonyms = {name: column.filter(keep) for name, column in pseudonyms.items()}
    vaulted = [field.name for field in contract.fields if field.is_vaulted]
    if vaulted:
        if vault is None:
            raise ValueError(
                f"the {contract.source} contract vaults {vaulted}: a vault is required"
            )
        subject = contract.subject_field
        assert subject is not None  # the contract guarantees one when it vaults
        vault.put_many(
            pseudonyms[subject.name].to_pylist(),
            {name: table.column(name).to_pylist() for name in vaulted},
        )
    landed = {**pseudonyms, **coarsened(table, contract)}
    columns = [landed.get(field.name, table.column(field.name)) for field in contract.fields]
    names = [field.output_column for field in contract.fields]
    return pa.table(columns, names=names)
