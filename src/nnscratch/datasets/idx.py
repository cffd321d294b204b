"""The IDX format of MNIST and Fashion-MNIST: a small header, then one big array.

    bytes 0-1   zero
    byte  2     element type: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
                0x0E float64 (multi-byte types are big-endian)
    byte  3     the number of dimensions, d
    then        d big-endian uint32 sizes, then the elements in row-major order

``parse_idx`` checks every part of that against the bytes it is given and refuses the rest.
"""

from __future__ import annotations

import math
import struct

import numpy as np

IDX_TYPES: dict[int, np.dtype] = {0x08: np.dtype("u1"), 0x09: np.dtype("i1"), 0x0B: np.dtype(">i2"),
                                   0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"),
                                   0x0E: np.dtype(">f8")}


class IDXError(ValueError):
    """Bytes that are not a valid IDX file."""


def parse_idx(data: bytes, name: str = "the file") -> np.ndarray:
    """The array held by the IDX bytes ``data``; ``name`` is used in error messages."""
    if len(data) < 4:
        raise IDXError(f"{name} is too short to be an IDX file ({len(data)} bytes)")
    zero, type_code, n_dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code not in IDX_TYPES:
        raise IDXError(f"{name} does not start with an IDX magic number (got {data[:4].hex()})")
    if not 1 <= n_dims <= 4:
        raise IDXError(f"{name} claims {n_dims} dimensions; IDX data sets have 1 to 4")
    header_end = 4 + 4 * n_dims
    if len(data) < header_end:
        raise IDXError(f"{name} ends inside its header")
    shape = struct.unpack(f">{n_dims}I", data[4:header_end])
    dtype = IDX_TYPES[type_code]
    expected = math.prod(shape) * dtype.itemsize
    if len(data) - header_end != expected:
        raise IDXError(f"{name} should hold {expected:,} bytes of data for shape {shape}, "
                       f"but holds {len(data) - header_end:,}: it is truncated or damaged")
    array = np.frombuffer(data, dtype=dtype, offset=header_end).reshape(shape)
    return array.astype(dtype.newbyteorder("="))
