"""Coordinate systems used in China, and the metric CRS for analysis.

gridmap stores every geometry in WGS-84 (EPSG:4326). Sources come in many
systems; the two that PROJ does not know are handled here:

* **GCJ-02** ("Mars coordinates"): Amap/Gaode and Tencent. An obfuscated shift
  of WGS-84 by ~26-680 m inside China and none outside it.
* **BD-09**: Baidu, a further shift of GCJ-02 by ~0.7-1.5 km.

The forward transforms are the published closed-form formulas. Their inverses
have no closed form, so :func:`wgs84_from_gcj02` and :func:`gcj02_from_bd09`
solve ``forward(x) = target`` by fixed-point iteration; the result converted
forward again lands within 1e-9 degrees (about 0.1 mm) of the input.

All functions are vectorised over numpy arrays and accept scalars.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

import numpy as np
import numpy.typing as npt
from pyproj import CRS

__all__ = [
    "CHINA_BBOX",
    "CHINA_ONLY_SYSTEMS",
    "SourceCRS",
    "bd09_from_gcj02",
    "bd09_from_wgs84",
    "gcj02_from_bd09",
    "gcj02_from_wgs84",
    "in_china",
    "metric_crs_for",
    "parse_source_crs",
    "to_wgs84",
    "wgs84_from_bd09",
    "wgs84_from_gcj02",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = npt.ArrayLike

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A: Final = 6378245.0
_EE: Final = 0.00669342162296594323
_X_PI: Final = math.pi * 3000.0 / 180.0

#: Rough extent of China used by the GCJ-02 algorithm itself: no shift outside it.
CHINA_BBOX: Final = (72.004, 0.8293, 137.8347, 55.8271)

#: Systems that only make sense for data inside China.
CHINA_ONLY_SYSTEMS: Final = frozenset(
    {"gcj02", "bd09", "EPSG:4490"} | {f"EPSG:{code}" for code in range(4491, 4555)}
)

_TOLERANCE_DEG: Final = 1e-10
_MAX_ITERATIONS: Final = 30


def _as_arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def in_china(lon: ArrayLike, lat: ArrayLike) -> npt.NDArray[np.bool_]:
    """Return True where a point lies inside the extent the GCJ-02 shift applies to."""
    x, y = _as_arrays(lon, lat)
    west, south, east, north = CHINA_BBOX
    return (x >= west) & (x <= east) & (y >= south) & (y <= north)


def _shift_lat(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: FloatArray, y: FloatArray) -> FloatArray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def gcj02_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 to GCJ-02 (the forward, closed-form direction)."""
    x, y = _as_arrays(lon, lat)
    dlat = _shift_lat(x - 105.0, y - 35.0)
    dlon = _shift_lon(x - 105.0, y - 35.0)
    radlat = y / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(x, y)
    return np.where(inside, x + dlon, x), np.where(inside, y + dlat, y)


def bd09_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to BD-09 (the forward direction)."""
    x, y = _as_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(
    forward: Callable[[FloatArray, FloatArray], tuple[FloatArray, FloatArray]],
    lon: ArrayLike,
    lat: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """Solve ``forward(x, y) == (lon, lat)`` by fixed-point iteration.

    The shifts are smooth and small next to their arguments, so the update
    ``x -= forward(x) - target`` converges in a handful of steps.
    """
    tx, ty = _as_arrays(lon, lat)
    x, y = tx.copy(), ty.copy()
    for _ in range(_MAX_ITERATIONS):
        fx, fy = forward(x, y)
        dx, dy = fx - tx, fy - ty
        x, y = x - dx, y - dy
        if np.all(np.abs(dx) < _TOLERANCE_DEG) and np.all(np.abs(dy) < _TOLERANCE_DEG):
            break
    return x, y


def wgs84_from_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert GCJ-02 to WGS-84 by iterative inversion (error well below 1 cm)."""
    return _invert(gcj02_from_wgs84, lon, lat)


def gcj02_from_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to GCJ-02 by iterative inversion of :func:`bd09_from_gcj02`."""
    return _invert(bd09_from_gcj02, lon, lat)


def bd09_from_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert WGS-84 to BD-09."""
    return bd09_from_gcj02(*gcj02_from_wgs84(lon, lat))


def wgs84_from_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert BD-09 to WGS-84."""
    return wgs84_from_gcj02(*gcj02_from_bd09(lon, lat))


class SourceCRS:
    """A source coordinate system: an EPSG/PROJ CRS or one of ``gcj02``/``bd09``.

    Parameters
    ----------
    text
        ``"4326"``, ``"EPSG:4490"``, ``"gcj02"`` (aliases ``gcj-02``, ``amap``,
        ``gaode``, ``tencent``), ``"bd09"`` (aliases ``bd-09``, ``baidu``) or
        anything :class:`pyproj.CRS` accepts.
    """

    _GCJ_ALIASES: Final = frozenset(
        {"gcj02", "gcj-02", "gcj", "amap", "gaode", "tencent", "火星坐标"}
    )
    _BD_ALIASES: Final = frozenset({"bd09", "bd-09", "bd09ll", "baidu", "百度"})

    def __init__(self, text: str | int) -> None:
        raw = str(text).strip()
        key = raw.lower()
        self.name: str
        self.crs: CRS | None
        if key in self._GCJ_ALIASES:
            self.name, self.crs = "gcj02", None
        elif key in self._BD_ALIASES:
            self.name, self.crs = "bd09", None
        else:
            spec = f"EPSG:{raw}" if raw.isdigit() else raw
            try:
                crs = CRS.from_user_input(spec)
            except Exception as exc:  # pyproj raises CRSError, a plain Exception subclass
                msg = (
                    f"unknown coordinate system {raw!r}: give an EPSG code such as 4326, "
                    "4490 or 4547, or one of gcj02 (Amap/Gaode/Tencent) or bd09 (Baidu)"
                )
                raise ValueError(msg) from exc
            self.crs = crs
            epsg = crs.to_epsg()
            self.name = f"EPSG:{epsg}" if epsg is not None else crs.to_string()

    @property
    def china_only(self) -> bool:
        """True for systems whose data must lie inside China."""
        return self.name in CHINA_ONLY_SYSTEMS

    @property
    def is_geographic(self) -> bool:
        """True when coordinates are longitude/latitude degrees."""
        return self.crs is None or bool(self.crs.is_geographic)

    def __repr__(self) -> str:
        return f"SourceCRS({self.name!r})"


def parse_source_crs(text: str | int) -> SourceCRS:
    """Parse a user-given coordinate system name (see :class:`SourceCRS`)."""
    return SourceCRS(text)


def to_wgs84(
    x: ArrayLike, y: ArrayLike, source: SourceCRS | str | int
) -> tuple[FloatArray, FloatArray]:
    """Convert coordinates from ``source`` to WGS-84 longitude/latitude."""
    src = source if isinstance(source, SourceCRS) else SourceCRS(source)
    if src.name == "gcj02":
        return wgs84_from_gcj02(x, y)
    if src.name == "bd09":
        return wgs84_from_bd09(x, y)
    assert src.crs is not None
    if src.crs.to_epsg() == 4326:
        return _as_arrays(x, y)
    from pyproj import Transformer

    transformer = Transformer.from_crs(src.crs, 4326, always_xy=True)
    lon, lat = transformer.transform(*_as_arrays(x, y))
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def metric_crs_for(lon: float, lat: float) -> CRS:
    """Choose a metric CRS for analysis around a WGS-84 point.

    Inside China this is the CGCS2000 3-degree Gauss-Kruger zone whose central
    meridian is nearest (EPSG:4534-4554, no zone prefix on the easting); the
    datum is within centimetres of WGS-84. Elsewhere it is the WGS-84 UTM zone.
    """
    if bool(in_china(lon, lat)):
        central = min(max(round(lon / 3.0) * 3, 75), 135)
        return CRS.from_epsg(4534 + (central - 75) // 3)
    zone = min(max(math.floor((lon + 180.0) / 6.0) + 1, 1), 60)
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)
