"""Build a SpatiaLite spatial index in one pass: a packed SQLite R*Tree, written directly.

Filling SQLite's R*Tree one row at a time costs about 7 us a row (the rows go through
the tree's node splits), as much as the rest of an import. After a bulk insert that at
least doubles a table, :func:`pack_index` instead builds the whole tree at once with
Sort-Tile-Recursive packing (Leutenegger et al. 1997) and writes its three shadow
tables (``<index>_node``, ``_rowid``, ``_parent``) in the format of SQLite's
``rtree.c``: node 1 is the root and holds the tree's depth; every node is a 2-byte
depth, a 2-byte cell count and cells of a 64-bit id and four 32-bit floats, big-endian,
each box rounded outwards to float32 as SQLite does. The result is checked with
SQLite's own ``rtreecheck()`` before the transaction goes on.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from gridmap.errors import StoreError

logger = logging.getLogger(__name__)

__all__ = ["pack_index"]

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
_CELL = np.dtype([("id", ">i8"), ("box", ">f4", (4,))])


def _down(values: Floats) -> npt.NDArray[np.float32]:
    """Each value as the largest float32 not above it (a box's lower edge)."""
    out = values.astype(np.float32)
    above = out > values
    out[above] = np.nextafter(out[above], np.float32(-np.inf))
    return out


def _up(values: Floats) -> npt.NDArray[np.float32]:
    """Each value as the smallest float32 not below it (a box's upper edge)."""
    out = values.astype(np.float32)
    below = out < values
    out[below] = np.nextafter(out[below], np.float32(np.inf))
    return out


def _str_order(boxes: npt.NDArray[np.float32], per_node: int) -> Ints:
    """Sort-Tile-Recursive order: vertical slices by x centre, each sorted by y centre."""
    n = len(boxes)
    leaves = math.ceil(n / per_node)
    slices = max(1, math.ceil(math.sqrt(leaves)))
    by_x = np.argsort((boxes[:, 0] + boxes[:, 1]) / 2, kind="stable")
    size = slices * per_node
    order = np.empty(n, dtype=np.int64)
    y = (boxes[:, 2] + boxes[:, 3]) / 2
    for start in range(0, n, size):
        chunk = by_x[start : start + size]
        order[start : start + len(chunk)] = chunk[np.argsort(y[chunk], kind="stable")]
    return order


def _level(
    ids: Ints, boxes: npt.NDArray[np.float32], per_node: int
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.float32], Ints]:
    """Pack entries into nodes: the nodes' bodies, their boxes, and each entry's node."""
    order = _str_order(boxes, per_node)
    ids, boxes = ids[order], boxes[order]
    n = len(ids)
    nodes = math.ceil(n / per_node)
    cells = np.zeros(nodes * per_node, dtype=_CELL)
    cells["id"][:n] = ids
    cells["box"][:n] = boxes
    starts = np.arange(0, n, per_node)
    node_boxes = np.column_stack(
        [
            np.minimum.reduceat(boxes[:, 0], starts),
            np.maximum.reduceat(boxes[:, 1], starts),
            np.minimum.reduceat(boxes[:, 2], starts),
            np.maximum.reduceat(boxes[:, 3], starts),
        ]
    ).astype(np.float32)
    body = cells.view(np.uint8).reshape(nodes, per_node * _CELL.itemsize)
    counts = np.minimum(per_node, n - starts)
    node_of = np.empty(n, dtype=np.int64)
    node_of[order] = np.repeat(np.arange(nodes), counts)
    return _with_header(body, counts), node_boxes, node_of


def _with_header(body: npt.NDArray[np.uint8], counts: Ints) -> npt.NDArray[np.uint8]:
    out = np.zeros((len(body), 4 + body.shape[1]), dtype=np.uint8)
    out[:, 2:4] = counts.astype(">u2").view(np.uint8).reshape(-1, 2)
    out[:, 4:] = body
    return out


def pack_index(
    conn: Connection,
    index: str,
    ids: Ints,
    xmin: Floats,
    xmax: Floats,
    ymin: Floats,
    ymax: Floats,
) -> None:
    """Replace the content of the R*Tree ``index`` with the given entries, packed."""
    node_size = conn.exec_driver_sql(
        f'SELECT length(data) FROM "{index}_node" WHERE nodeno = 1'
    ).scalar()
    if not node_size:
        msg = f"{index}: the spatial index has no root node; run `gridmap db upgrade`"
        raise StoreError(msg)
    per_node = (int(node_size) - 4) // _CELL.itemsize
    if not len(ids):
        _empty(conn, index, int(node_size))
        return
    boxes = np.column_stack([_down(xmin), _up(xmax), _down(ymin), _up(ymax)])
    levels: list[tuple[npt.NDArray[np.uint8], Ints]] = []  # (nodes, parent of each node)
    entries, entry_ids = boxes, np.asarray(ids, dtype=np.int64)
    leaf_of: Ints | None = None
    while True:
        nodes, node_boxes, node_of = _level(entry_ids, entries, per_node)
        if leaf_of is None:
            leaf_of = node_of
        else:
            levels[-1] = (levels[-1][0], node_of)
        levels.append((nodes, np.zeros(0, dtype=np.int64)))
        if len(nodes) == 1:
            break
        entries, entry_ids = node_boxes, np.arange(len(nodes), dtype=np.int64)
    _write(conn, index, levels, leaf_of, np.asarray(ids, dtype=np.int64), int(node_size))


def _write(
    conn: Connection,
    index: str,
    levels: list[tuple[npt.NDArray[np.uint8], Ints]],
    leaf_of: Ints,
    ids: Ints,
    node_size: int,
) -> None:
    """Number the nodes (root 1, then level by level from the top) and write the tables."""
    numbers: list[Ints] = []
    next_number = 1
    for nodes, _ in reversed(levels):
        numbers.insert(0, np.arange(next_number, next_number + len(nodes), dtype=np.int64))
        next_number += len(nodes)
    node_rows: list[tuple[int, bytes]] = []
    parent_rows: list[tuple[int, int]] = []
    for depth, ((nodes, parents), own) in enumerate(zip(levels, numbers, strict=True)):
        if depth:  # cells of inner nodes point at the numbers of the level below
            below = numbers[depth - 1]
            _renumber(nodes, below)
        if depth + 1 < len(levels):
            parent_rows += zip(own.tolist(), numbers[depth + 1][parents].tolist(), strict=True)
        blobs = [bytes(row).ljust(node_size, b"\0") for row in nodes]
        node_rows += zip(own.tolist(), blobs, strict=True)
    root = bytearray(node_rows[-1][1])
    root[0:2] = (len(levels) - 1).to_bytes(2, "big")
    node_rows[-1] = (1, bytes(root))
    for table in ("node", "rowid", "parent"):
        conn.exec_driver_sql(f'DELETE FROM "{index}_{table}"')
    conn.exec_driver_sql(f'INSERT INTO "{index}_node" (nodeno, data) VALUES (?, ?)', node_rows)
    if parent_rows:
        conn.exec_driver_sql(
            f'INSERT INTO "{index}_parent" (nodeno, parentnode) VALUES (?, ?)', parent_rows
        )
    rowids = list(zip(ids.tolist(), numbers[0][leaf_of].tolist(), strict=True))
    conn.exec_driver_sql(f'INSERT INTO "{index}_rowid" (rowid, nodeno) VALUES (?, ?)', rowids)
    check = conn.exec_driver_sql(f"SELECT rtreecheck('{index}')").scalar()
    if check != "ok":
        msg = f"{index}: the packed spatial index is inconsistent ({check}); nothing was changed"
        raise StoreError(msg)
    logger.debug("%s: packed %d entries into %d nodes", index, len(ids), len(node_rows))


def _empty(conn: Connection, index: str, node_size: int) -> None:
    """An index without entries: an empty root, as SQLite creates it."""
    for table in ("node", "rowid", "parent"):
        conn.exec_driver_sql(f'DELETE FROM "{index}_{table}"')
    conn.exec_driver_sql(
        f'INSERT INTO "{index}_node" (nodeno, data) VALUES (1, ?)', (bytes(node_size),)
    )


def _renumber(nodes: npt.NDArray[np.uint8], below: Ints) -> None:
    """Replace the cell ids of inner ``nodes`` (positions in the level below) by node numbers."""
    per_node = (nodes.shape[1] - 4) // _CELL.itemsize
    cells = nodes[:, 4:].copy().view(_CELL).reshape(len(nodes), per_node)
    counts = nodes[:, 2:4].copy().view(">u2").reshape(-1).astype(np.int64)
    used = np.arange(per_node)[None, :] < counts[:, None]
    cells["id"][used] = below[cells["id"][used]]
    nodes[:, 4:] = cells.view(np.uint8).reshape(len(nodes), -1)
