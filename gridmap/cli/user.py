"""``gridmap user``: web accounts (add, list, passwd, disable). Passwords come from stdin only."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gridmap.cli._common import console, handle_errors, open_store, print_table, settings
from gridmap.errors import InvalidInputError

#: The web roles, as :data:`gridmap.accounts.ROLES` (a test keeps them equal); written out so
#: that ``--help`` loads no store module.
ROLES = ("admin", "department", "planner", "worker")

app = typer.Typer(
    help="Web accounts: roles admin, department, planner, worker (网页账户).",
    no_args_is_help=True,
)

PasswordStdin = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="read the password from standard input (never give it on the command line)",
    ),
]


def _read_password(password_stdin: bool) -> str:
    if not password_stdin:
        msg = (
            "give the password on standard input with --password-stdin, e.g. "
            "'read -rs PW; printf %s \"$PW\" | gridmap user add NAME --role ... --password-stdin'"
        )
        raise InvalidInputError(msg)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        msg = "no password on standard input: pipe one line into --password-stdin"
        raise InvalidInputError(msg)
    return password


@app.command()
@handle_errors
def add(
    name: Annotated[str, typer.Argument(help="username")],
    role: Annotated[str, typer.Option(help=f"one of {', '.join(ROLES)}")],
    password_stdin: PasswordStdin = False,
    area: Annotated[
        str | None, typer.Option(help="admin code the user sees, with all below (department)")
    ] = None,
    worker: Annotated[
        str | None, typer.Option(help="worker source id (W01) whose cells a worker sees")
    ] = None,
) -> None:
    """Create an account with a role and a data scope."""
    from gridmap.accounts import add_user

    password = _read_password(password_stdin)
    config = settings()
    with open_store(config) as store:
        account = add_user(
            store,
            name,
            password,
            role=role,
            area=area,
            worker=worker,
            min_length=config.web.min_password_length,
        )
    console.print(f"user {account.username} added: role {account.role}, scope {account.scope}")


@app.command(name="list")
@handle_errors
def list_() -> None:
    """Every account: role, scope, whether active or locked, last login."""
    from gridmap.accounts import list_users

    with open_store() as store:
        accounts = list_users(store)
    print_table(
        "users",
        ["username", "role", "area", "worker id", "active", "locked until", "last login"],
        [
            (
                a.username,
                a.role,
                a.area_code,
                a.worker_id,
                "yes" if a.active else "no",
                a.locked_until,
                a.last_login_at,
            )
            for a in accounts
        ],
    )


@app.command()
@handle_errors
def passwd(
    name: Annotated[str, typer.Argument(help="username")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password (ends the user's sessions, lifts a lock)."""
    from gridmap.accounts import set_password

    password = _read_password(password_stdin)
    config = settings()
    with open_store(config) as store:
        set_password(store, name, password, min_length=config.web.min_password_length)
    console.print(f"password of {name} changed")


@app.command()
@handle_errors
def disable(name: Annotated[str, typer.Argument(help="username")]) -> None:
    """Disable an account: no more sign-ins, its sessions end at once."""
    from gridmap.accounts import disable_user

    with open_store() as store:
        disable_user(store, name)
    console.print(f"user {name} disabled")
