"""The decision and feature API: partners, their access, and the audit log."""
