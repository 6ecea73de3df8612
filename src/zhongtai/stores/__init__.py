"""The SQLite stores: partners, decisions, the audit chain, and the private-file opening
they share with the privacy vault.

A low floor (settings, ground helpers and privacy below it; never ``decision`` or
``api``): the stores take and return plain data, and the routes convert.
"""
