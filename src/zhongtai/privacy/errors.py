"""Errors raised by the privacy layer.

Each message names what is wrong (the variable, key version, subject or file) and what
was expected, and never contains key material or a clear identifier.
"""

from __future__ import annotations


class PrivacyError(Exception):
    """Base class of every error raised by ``zhongtai.privacy``."""


class KeyConfigError(PrivacyError, ValueError):
    """Keys are missing or malformed (environment variables or the dev keyring file)."""


class UnknownKeyVersionError(PrivacyError, LookupError):
    """A master key version that data depends on is not in the keyring."""


class DecryptionError(PrivacyError):
    """Authenticated decryption failed: wrong key for the recorded version, or tampering.

    Raised instead of ever returning unauthenticated (garbage) plaintext.
    """


class SubjectNotFoundError(PrivacyError, KeyError):
    """The vault holds nothing for this subject."""

    def __str__(self) -> str:
        # KeyError would print the repr of the message, quotes and all.
        return str(self.args[0]) if self.args else super().__str__()


class SubjectErasedError(SubjectNotFoundError):
    """The subject was erased: its data key was destroyed and its values are gone."""
