"""numba compilation with its on-disk cache when there is somewhere to keep it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["compile_kernel"]


def compile_kernel(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` compiled by numba (nopython, GIL released), cached on disk if possible.

    numba is imported here: it takes a moment to load, and only the kernels need it.
    """
    import numba

    try:
        kernel: Callable[..., Any] = numba.njit(cache=True, nogil=True)(function)
    except RuntimeError as exc:  # no writable cache directory (read-only install, no HOME)
        logger.info("compiling without an on-disk cache (%s); set NUMBA_CACHE_DIR to keep it", exc)
        kernel = numba.njit(cache=False, nogil=True)(function)
    return kernel
