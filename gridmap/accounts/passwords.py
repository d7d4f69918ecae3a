"""Password hashing (argon2id through pwdlib) and the policy new passwords must meet."""

from __future__ import annotations

from functools import cache

from pwdlib import PasswordHash

from gridmap.errors import InvalidInputError

__all__ = ["check_password_policy", "dummy_verify", "hash_password", "verify_password"]

#: Longest password accepted: argon2 takes any length, but an endless one is a cheap DoS.
MAX_PASSWORD_LENGTH = 256


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()  # argon2id with pwdlib's (OWASP) parameters


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; a new hash each call)."""
    return _hasher().hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``; never raises on a malformed hash."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        return bool(_hasher().verify(password, password_hash))
    except Exception:  # a corrupt stored hash counts as a mismatch, not an error
        return False


@cache
def _dummy_hash() -> str:
    return hash_password("an unguessable dummy password that no account has")


def dummy_verify(password: str) -> None:
    """Spend the time of a real check, so unknown usernames answer as slowly as known ones."""
    verify_password(password, _dummy_hash())


def check_password_policy(password: str, username: str, *, min_length: int) -> None:
    """Refuse a password that is short, very long, or contains the username."""
    problems = []
    if len(password) < min_length:
        problems.append(f"at least {min_length} characters are needed, {len(password)} given")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"at most {MAX_PASSWORD_LENGTH} characters are accepted")
    if username and username.casefold() in password.casefold():
        problems.append("it must not contain the username")
    if password.strip() != password or not password.strip():
        problems.append("it must not start or end with spaces")
    if problems:
        msg = "password refused: " + "; ".join(problems) + "; choose a longer, different one"
        raise InvalidInputError(msg)
