"""The SQLite stores: partners, the ledger (decisions and the audit chain in one file),
the rate-limit buckets the API's workers share, and the private-file opening they share
with the privacy vault.

A low floor (settings, ground helpers and privacy below it; never ``decision`` or
``api``): the stores take and return plain data, and the routes convert.
"""
