"""Domain errors, and the one table that maps every error to a CLI exit code and an HTTP status.

Library code raises these; the CLI (:mod:`gridmap.cli._common`) and the web layer
(:mod:`gridmap.web.errors`) look the outcome up in :data:`OUTCOMES` and never
decide it themselves. An error may name the parameter it is about
(``parameter="crs"``): the CLI prints it as the flag (``--crs``), Python as the
argument (``crs=``).

>>> str(InvalidValueError("must be > 0, got -5", parameter="minutes"))
'minutes=: must be > 0, got -5'
>>> outcome_of(NotFoundError("no run 7")).http_status
404
>>> outcome_of(ZeroDivisionError()).exit_code
70
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

__all__ = [
    "OUTCOMES",
    "AuthenticationError",
    "ConfigurationError",
    "GridmapError",
    "InvalidInputError",
    "InvalidValueError",
    "NotFoundError",
    "Outcome",
    "PermissionDeniedError",
    "StoreBusyError",
    "StoreError",
    "StoreUnavailableError",
    "UnknownValueError",
    "mask_secrets",
    "outcome_of",
]


class GridmapError(Exception):
    """Base class of every error gridmap raises on purpose.

    The message is written for the user: what was expected, what was given and
    how to fix it.

    Parameters
    ----------
    message
        The user's message, without the parameter's name.
    parameter
        The Python name of the argument or setting at fault (``"crs"``,
        ``"tianditu_key"``), or None when the error is not about one.
    """

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameter = parameter

    def __str__(self) -> str:
        return self.render(f"{self.parameter}=" if self.parameter else None)

    def __reduce__(self) -> tuple[object, ...]:
        # keep ``parameter`` through pickling (multiprocessing, pytest-xdist)
        return (_rebuild, (type(self), self.message, self.parameter))

    def render(self, name: str | None) -> str:
        """The message, led by ``name`` (how the caller spells the parameter) when given."""
        message = mask_secrets(self.message)
        return f"{name}: {message}" if name else message


def _rebuild(cls: type[GridmapError], message: str, parameter: str | None) -> GridmapError:
    return cls(message, parameter=parameter)


class ConfigurationError(GridmapError):
    """Settings are missing, contradictory or unsafe."""


class StoreError(GridmapError):
    """The store cannot be opened, migrated or written."""


class StoreUnavailableError(StoreError):
    """The database cannot be reached (server down, wrong host or port, bad password)."""


class StoreBusyError(StoreError):
    """Another gridmap process held the store's write lock for longer than we wait."""


class NotFoundError(GridmapError):
    """A record, run or file the user named does not exist."""


class UnknownValueError(GridmapError, ValueError):
    """A value is not one of those accepted (a unit kind, a station tier...)."""


class InvalidValueError(GridmapError, ValueError):
    """A value has the right type but is out of range (negative minutes, k below 1...)."""


class AuthenticationError(GridmapError):
    """Not signed in, a session that expired, or a wrong username or password."""


class PermissionDeniedError(GridmapError):
    """The signed-in user's role may not do this (a missing CSRF token too)."""


class InvalidInputError(InvalidValueError):
    """A value given is not acceptable (a weak password, a bad area code...)."""


@dataclass(frozen=True)
class Outcome:
    """How one kind of error ends: the CLI's exit code and the web's HTTP status."""

    exit_code: int
    http_status: int
    #: The web's short error code, in every error answer beside the message.
    code: str = "refused"


#: Exit code of an interrupted command (128 + SIGINT, what shells report for Ctrl-C).
EXIT_INTERRUPTED: Final = 130
#: Exit code of an internal error, a bug (EX_SOFTWARE of sysexits.h).
EXIT_INTERNAL: Final = 70

#: THE table: error type -> outcome. The most specific class in an error's MRO wins;
#: anything that is not a GridmapError is an internal error.
OUTCOMES: Final[Mapping[type[BaseException], Outcome]] = {
    AuthenticationError: Outcome(exit_code=2, http_status=401, code="unauthenticated"),
    PermissionDeniedError: Outcome(exit_code=2, http_status=403, code="forbidden"),
    NotFoundError: Outcome(exit_code=2, http_status=404, code="not_found"),
    InvalidValueError: Outcome(exit_code=2, http_status=400, code="invalid"),
    UnknownValueError: Outcome(exit_code=2, http_status=400, code="invalid"),
    StoreUnavailableError: Outcome(exit_code=2, http_status=503, code="store_unavailable"),
    StoreBusyError: Outcome(exit_code=2, http_status=503, code="busy"),
    StoreError: Outcome(exit_code=2, http_status=500, code="store"),
    ConfigurationError: Outcome(exit_code=2, http_status=500, code="configuration"),
    GridmapError: Outcome(exit_code=2, http_status=400, code="refused"),
    KeyboardInterrupt: Outcome(exit_code=EXIT_INTERRUPTED, http_status=503, code="interrupted"),
    BaseException: Outcome(exit_code=EXIT_INTERNAL, http_status=500, code="internal"),
}


def outcome_of(exc: BaseException) -> Outcome:
    """The exit code and HTTP status of ``exc``, from :data:`OUTCOMES`."""
    for cls in type(exc).__mro__:
        if cls in OUTCOMES:
            return OUTCOMES[cls]
    return OUTCOMES[BaseException]  # pragma: no cover - BaseException is in every MRO


_URL_PASSWORD: Final = re.compile(r"(?P<head>\b[a-z][a-z0-9+.\-]*://[^:/@\s]*):\S*@", re.I)
_KEYWORD_PASSWORD: Final = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|\S+)", re.I)
MASK: Final = "***"


def mask_secrets(text: str) -> str:
    """``text`` with the passwords of database URLs and conninfo strings replaced by ``***``.

    >>> mask_secrets("cannot reach postgresql+psycopg://gis:s3cr@t@db:5432/gridmap")
    'cannot reach postgresql+psycopg://gis:***@db:5432/gridmap'
    >>> mask_secrets("host=db password='x y' dbname=g")
    'host=db password=*** dbname=g'
    """
    text = _URL_PASSWORD.sub(rf"\g<head>:{MASK}@", text)
    return _KEYWORD_PASSWORD.sub(rf"\g<head>{MASK}", text)
