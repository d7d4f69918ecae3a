"""The public surface: `from gridmap import ...` reaches every CLI command, cheaply."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import typer
import typer.main

import gridmap
from gridmap.cli import app

#: CLI command -> the public function it calls (docs/api.md, "CLI command -> function")
COMMAND_FUNCTIONS = {
    ("db", "upgrade"): "Store.upgrade",
    ("db", "current"): "Store.current_revision",
    ("ingest", "osm"): "ingest_osm",
    ("ingest", "layer"): "ingest_layer",
    ("areas", "derive"): "derive_areas",
    ("areas", "list"): "list_areas",
    ("grid", "generate"): "generate_grid",
    ("grid", "import"): "ingest_layer",
    ("grid", "check"): "check_grid",
    ("export",): "export_records",
    ("coverage", "run"): "run_coverage",
    ("coverage", "runs"): "list_runs",
    ("coverage", "compare"): "compare_runs",
    ("site", "recommend"): "recommend_sites",
    ("map", "export"): "export_html",
    ("map", "image"): "render_png",
    ("report",): "write_report",
    ("demo",): "run_demo",
    ("serve",): "create_app",
    ("user", "add"): "add_user",
    ("user", "list"): "list_users",
    ("user", "passwd"): "set_password",
    ("user", "disable"): "disable_user",
}


def _leaves(group: typer.Typer, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    for info in group.registered_commands:
        assert info.callback is not None
        yield (*path, info.name or info.callback.__name__.replace("_", "-"))
    for sub in group.registered_groups:
        assert sub.name and sub.typer_instance is not None
        yield from _leaves(sub.typer_instance, (*path, sub.name))


def test_every_cli_command_has_a_public_function() -> None:
    commands = set(_leaves(app))
    assert commands == set(COMMAND_FUNCTIONS), (
        f"commands without a function here: {sorted(commands - set(COMMAND_FUNCTIONS))}; "
        f"listed but no longer commands: {sorted(set(COMMAND_FUNCTIONS) - commands)}"
    )
    for command, dotted in COMMAND_FUNCTIONS.items():
        head, _, method = dotted.partition(".")
        assert head in gridmap.__all__, f"gridmap {' '.join(command)}: {head} not public"
        target = getattr(gridmap, head)
        assert callable(getattr(target, method) if method else target), dotted


def test_every_public_name_resolves_and_is_listed() -> None:
    assert set(gridmap.__all__) == {"__version__", *gridmap._PUBLIC}
    for name in gridmap._PUBLIC:
        value = getattr(gridmap, name)
        assert value is not None, name
        module = gridmap._PUBLIC[name]
        assert getattr(sys.modules[module], name) is value


def test_import_gridmap_stays_cheap() -> None:
    code = (
        "import sys, gridmap; heavy = ('pandas', 'geopandas', 'sqlalchemy', 'shapely'); "
        "print(','.join(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import gridmap loaded {out.stdout.strip()}"


def test_unknown_name_is_an_attribute_error_naming_it() -> None:
    try:
        gridmap.no_such_function  # noqa: B018
    except AttributeError as exc:
        assert "no_such_function" in str(exc)
    else:
        raise AssertionError("gridmap.no_such_function did not raise")


def _params(*path: str) -> dict[str, Any]:
    command: Any = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return {p.name: p for p in command.params if p.name}


def test_coverage_run_and_site_recommend_share_the_reach_options() -> None:
    run, recommend = _params("coverage", "run"), _params("site", "recommend")
    for name in ("mode", "profile", "meters", "minutes"):
        a, b = run[name], recommend[name]
        same = (a.opts, a.help, a.default, a.type_descriptor.annotation)
        assert same == (b.opts, b.help, b.default, b.type_descriptor.annotation), name


def test_public_functions_spell_out_their_options() -> None:
    names = ("export_html", "recommend_sites", "ingest_osm", "ingest_layer", "map_data")
    for name in (*names, "write_report", "generate_grid", "export_records"):
        kinds = {p.kind for p in inspect.signature(getattr(gridmap, name)).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{name} hides options in **kwargs"
