"""Accounts on both stores: ``gridmap user`` commands, password policy, lockout, sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from gridmap.accounts import authenticate, get_account, session_user
from gridmap.accounts.sessions import LOGIN_REFUSED
from gridmap.cli import app
from gridmap.errors import AuthenticationError
from gridmap.settings import WebSettings
from gridmap.store import Store, models

SECRET = "test-secret-key-0123456789"
PASSWORD = "correct horse battery"


@pytest.fixture
def people(store: Store) -> Store:
    with store.session() as s:
        s.add(models.AdminArea(code="360681001", name="雄石街道", level="township", source_id="a"))
        s.add(models.Worker(name="王芳", source="sample_workers", source_id="W01"))
    return store


def _user(store: Store, *args: str, password: str = PASSWORD) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["user", *args, "--password-stdin"],
        input=password + "\n",
        env={"GRIDMAP_DATABASE_URL": store.url},
    )
    return result.exit_code, result.output


def test_add_worker_and_department_users_with_hashed_passwords(people: Store) -> None:
    assert _user(people, "add", "wangfang", "--role", "worker", "--worker", "W01")[0] == 0
    code, out = _user(people, "add", "xiong", "--role", "department", "--area", "360681001")
    assert code == 0 and PASSWORD not in out
    listed = CliRunner().invoke(app, ["user", "list"], env={"GRIDMAP_DATABASE_URL": people.url})
    assert "wangfang" in listed.output and "360681001" in listed.output
    with people.engine.connect() as conn:
        hashes = conn.execute(select(models.User.password_hash)).scalars().all()
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in hashes)
    assert get_account(people, "wangfang").scope.kind == "worker"
    assert str(get_account(people, "xiong").scope) == "area 360681001 and below"


@pytest.mark.parametrize(
    ("args", "password", "says"),
    [
        (("add", "li", "--role", "admin"), "short", "at least 10"),
        (("add", "li", "--role", "admin"), "li-is-my-password", "username"),
        (("add", "li", "--role", "department"), PASSWORD, "--area"),
        (("add", "li", "--role", "department", "--area", "999"), PASSWORD, "no admin area"),
        (("add", "li", "--role", "worker", "--worker", "W99"), PASSWORD, "no grid worker"),
        (("add", "li", "--role", "boss"), PASSWORD, "role must be one of"),
        (("add", "li li", "--role", "admin"), PASSWORD, "username"),
    ],
)
def test_refused_accounts_exit_2_and_add_nothing(
    people: Store, args: tuple[str, ...], password: str, says: str
) -> None:
    code, out = _user(people, *args, password=password)
    assert code == 2 and says in out.replace("\n", " ") and "Traceback" not in out
    with people.engine.connect() as conn:
        assert conn.execute(select(models.User.id)).first() is None


def test_password_is_never_taken_from_the_command_line(people: Store) -> None:
    result = CliRunner().invoke(
        app, ["user", "add", "li", "--role", "admin"], env={"GRIDMAP_DATABASE_URL": people.url}
    )
    assert result.exit_code == 2 and "--password-stdin" in result.output


def _login(store: Store, password: str, username: str = "li") -> str:
    return authenticate(store, username, password, web=WebSettings(), secret=SECRET).token


def test_five_failures_lock_the_account_and_the_answer_reveals_nothing(people: Store) -> None:
    assert _user(people, "add", "li", "--role", "admin")[0] == 0
    for _ in range(5):
        with pytest.raises(AuthenticationError) as wrong:
            _login(people, "wrong password!")
        assert str(wrong.value) == LOGIN_REFUSED
    with pytest.raises(AuthenticationError) as locked:
        _login(people, PASSWORD)  # the right password, but locked
    with pytest.raises(AuthenticationError) as unknown:
        _login(people, PASSWORD, username="nobody")
    assert str(locked.value) == str(unknown.value) == LOGIN_REFUSED
    with people.engine.begin() as conn:  # 15 minutes later
        past = dt.datetime(2000, 1, 1)
        conn.execute(update(models.User).values(locked_until=past))
    assert session_user(people, _login(people, PASSWORD), secret=SECRET) is not None
    with people.engine.connect() as conn:
        actions = conn.execute(select(models.AuditLog.action)).scalars().all()
    assert actions.count("login.failed") == 7 and "login" in actions


def test_disable_and_passwd_end_sessions(people: Store) -> None:
    assert _user(people, "add", "li", "--role", "admin")[0] == 0
    token = _login(people, PASSWORD)
    assert session_user(people, token, secret=SECRET) is not None
    assert session_user(people, token, secret="another-secret") is None
    assert _user(people, "passwd", "li", password="a new long password")[0] == 0
    assert session_user(people, token, secret=SECRET) is None
    token = _login(people, "a new long password")
    result = CliRunner().invoke(
        app, ["user", "disable", "li"], env={"GRIDMAP_DATABASE_URL": people.url}
    )
    assert result.exit_code == 0
    assert session_user(people, token, secret=SECRET) is None
    with pytest.raises(AuthenticationError):
        _login(people, "a new long password")


def test_accounts_and_query_layer_import_without_fastapi() -> None:
    import subprocess
    import sys

    code = (
        "import sys, gridmap.accounts, gridmap.query, gridmap.cli.user; "
        "print(','.join(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
