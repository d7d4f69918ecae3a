"""gridmap: grid-based community management GIS.

Finds which villages, communities, buildings, parks and organisations no party
branch (党支部) or party-mass service station (党群服务站) covers, along the
road network as well as by rule, and recommends where new sites close the gaps.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
