"""``compare_runs``' changed units, column-wise, against the unit-by-unit reference."""

from __future__ import annotations

import pandas as pd
import pytest

from gridmap.coverage import ReachOptions, run_coverage
from gridmap.coverage.runs import _changed_units, _units
from gridmap.settings import CoverageSettings
from gridmap.store import Store
from tests.conftest import TOWN_AS_OF

FIELDS = ("org_status", "must_have_branch", "service_covered")
COLUMNS = ["source", "source_id", "name", "change", "before", "after"]


def _reference(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The unit-by-unit loop ``compare_runs`` used before (one ``.loc`` per unit)."""
    rows = []
    for key in a.index.union(b.index):
        in_a, in_b = key in a.index, key in b.index
        name = (b if in_b else a).loc[key, "name"]
        if not in_a or not in_b:
            change = "added" if in_b else "removed"
            rows.append(dict(zip(COLUMNS, [*key, name, change, None, None], strict=True)))
            continue
        for field in FIELDS:
            before, after = a.loc[key, field], b.loc[key, field]
            if before != after:
                rows.append(dict(zip(COLUMNS, [*key, name, field, before, after], strict=True)))
    return pd.DataFrame(rows, columns=COLUMNS)


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want)
    for column in ("before", "after", "name"):  # same Python/numpy types, value by value
        assert [type(v) for v in got[column]] == [type(v) for v in want[column]]


@pytest.fixture
def two_runs(town: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    rules = CoverageSettings()
    first = run_coverage(town, rules, ReachOptions(), as_of=TOWN_AS_OF, label="a")
    second = run_coverage(town, rules, ReachOptions(meters=5000), as_of=TOWN_AS_OF, label="b")
    assert first.run_id is not None and second.run_id is not None
    return _units(town, first.run_id), _units(town, second.run_id)


def test_changed_units_match_the_reference_on_stored_runs(
    two_runs: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    a, b = two_runs
    want = _reference(a, b)
    assert len(want)  # the wider radius changes some units' service
    _same(_changed_units(a, b), want)


def test_added_removed_and_every_field_in_the_reference_order(
    two_runs: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    a, b = two_runs
    a, b = a.copy(), b.copy()
    keys = list(b.index)
    b = b.drop(index=keys[0])  # removed
    a = a.drop(index=keys[-1])  # added
    middle = keys[len(keys) // 2]
    b.loc[middle, "org_status"] = "changed"
    b.loc[middle, "must_have_branch"] = not bool(a.loc[middle, "must_have_branch"])
    b.loc[middle, "name"] = None
    want = _reference(a, b)
    assert set(want["change"]) >= {"added", "removed", "org_status", "must_have_branch"}
    _same(_changed_units(a, b), want)
    _same(_changed_units(a.iloc[:0], b.iloc[:0]), _reference(a.iloc[:0], b.iloc[:0]))
