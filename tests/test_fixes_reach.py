"""A reach of ``minutes`` / ``meters`` that is not a finite number above 0 is refused when
:class:`~gridmap.coverage.ReachOptions` is built, so Python users (coverage and siting) get
``minutes=: ...`` before any work, like the CLI's ``--minutes: ...``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gridmap.coverage import ReachOptions
from gridmap.errors import InvalidValueError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"minutes": -5}, "minutes=: must be a number above 0, got -5"),
        ({"minutes": 0.0, "mode": "network"}, "minutes=: must be a number above 0, got 0"),
        ({"minutes": math.inf}, "minutes=: must be a number above 0, got inf"),
        ({"meters": 0}, "meters=: must be a number above 0, got 0"),
        ({"meters": -1.5, "mode": "network"}, "meters=: must be a number above 0, got -1.5"),
        ({"meters": math.nan}, "meters=: must be a number above 0, got nan"),
        ({"meters": "500"}, "meters=: must be a number above 0, got '500'"),
        ({"minutes": True}, "minutes=: must be a number above 0, got True"),
    ],
)
def test_a_reach_that_is_not_above_0_is_refused_naming_the_argument(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidValueError) as caught:
        ReachOptions(**kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert caught.value.parameter == next(k for k in kwargs if k in ("meters", "minutes"))


def test_a_positive_reach_of_any_number_type_is_accepted() -> None:
    assert ReachOptions(meters=np.int64(500)).meters == 500
    assert ReachOptions(mode="network", minutes=np.float64(7.5)).minutes == 7.5
    assert ReachOptions(meters=1e-3).meters == 1e-3
