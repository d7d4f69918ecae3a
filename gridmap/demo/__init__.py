"""The demo: the shipped 贵溪市 sample, loaded and analysed end to end (:func:`run_demo`)."""

from __future__ import annotations

from gridmap.demo.stages import (
    COUNTY_CODE,
    DEMO_AS_OF,
    DIVISIONS,
    DemoResult,
    demo_data_dir,
    derive_demo_areas,
    run_demo,
    unit_counts,
)

__all__ = [
    "COUNTY_CODE",
    "DEMO_AS_OF",
    "DIVISIONS",
    "DemoResult",
    "demo_data_dir",
    "derive_demo_areas",
    "run_demo",
    "unit_counts",
]
