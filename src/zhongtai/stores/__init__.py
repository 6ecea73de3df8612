"""The API's SQLite stores: partners, decisions and the audit chain."""
