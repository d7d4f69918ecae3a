"""Domain errors. Library code raises these; the CLI and web layer map them to exits and HTTP."""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "GridmapError",
    "NotFoundError",
    "StoreError",
    "UnknownValueError",
]


class GridmapError(Exception):
    """Base class of every error gridmap raises on purpose.

    The message is written for the user: what was expected, what was given and
    how to fix it.
    """


class ConfigurationError(GridmapError):
    """Settings are missing, contradictory or unsafe."""


class StoreError(GridmapError):
    """The store cannot be opened, migrated or written."""


class NotFoundError(GridmapError):
    """A record, run or file the user named does not exist."""


class UnknownValueError(GridmapError, ValueError):
    """A value is not one of those accepted (a unit kind, a station tier...)."""


class AuthenticationError(GridmapError):
    """Not signed in, a session that expired, or a wrong username or password."""


class PermissionDeniedError(GridmapError):
    """The signed-in user's role may not do this (a missing CSRF token too)."""


class InvalidInputError(GridmapError, ValueError):
    """A value given is not acceptable (a weak password, a bad area code...)."""
