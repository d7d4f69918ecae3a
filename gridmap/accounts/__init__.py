"""Web accounts: users with a role and a data scope, argon2 passwords, lockout, sessions.

Framework-free, so the CLI (``gridmap user``) and the web app share it.
"""

from gridmap.accounts.passwords import check_password_policy, hash_password, verify_password
from gridmap.accounts.sessions import (
    LoginResult,
    authenticate,
    csrf_token,
    end_session,
    session_user,
)
from gridmap.accounts.users import (
    ROLES,
    Account,
    add_user,
    disable_user,
    get_account,
    list_users,
    set_password,
)

__all__ = [
    "ROLES",
    "Account",
    "LoginResult",
    "add_user",
    "authenticate",
    "check_password_policy",
    "csrf_token",
    "disable_user",
    "end_session",
    "get_account",
    "hash_password",
    "list_users",
    "session_user",
    "set_password",
    "verify_password",
]
