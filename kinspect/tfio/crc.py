"""CRC32C (Castagnoli) as TensorFlow and LevelDB use it, and their masking.

A CRC stored next to the data it covers is *masked* (``tensorflow/core/lib/hash/crc32c.h``):
rotated right by 15 bits plus a constant, because computing the CRC of a string that contains
embedded CRCs is problematic.
"""

from __future__ import annotations

import google_crc32c

_MASK_DELTA = 0xA282EAD8
_U32 = 0xFFFFFFFF


def crc32c(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """The CRC32C of ``data``, continuing from ``crc`` (the CRC of the bytes before it)."""
    return int(google_crc32c.extend(crc, bytes(data)))


def mask(crc: int) -> int:
    """The masked form TensorFlow stores: ``((crc >> 15) | (crc << 17)) + 0xa282ead8`` mod 2³²."""
    return ((((crc >> 15) | (crc << 17)) & _U32) + _MASK_DELTA) & _U32


def unmask(masked: int) -> int:
    """The CRC behind a stored masked value."""
    rot = (masked - _MASK_DELTA) & _U32
    return ((rot >> 17) | (rot << 15)) & _U32
