"""Pickled data in archive members, found by reading opcodes and headers, never by unpickling.

A ``.keras`` archive may carry pickles in three shapes, each of which some loader unpickles:
a raw pickle (``np.load(allow_pickle=True)`` falls back to ``pickle.load`` on a file that is
neither ``.npy`` nor zip), an ``.npy`` array of object dtype (its header says ``'descr': '|O'``;
numpy unpickles the data), and a zip inside the archive (an ``.npz`` such as Keras's own
``model.weights.npz``, which Keras 3.0-3.8 opened with ``allow_pickle=True``) holding either.
Only a bounded prefix of each member is read, and a zip member's own directory.
"""

from __future__ import annotations

import ast
import io
import pickletools
import re
import zipfile
from typing import IO

from kinspect.loaders.archive import ArchiveError, open_info

# What reading a member may raise (kinspect.loaders.base.READ_ERRORS, and ArchiveError for sizes).
READ_ERRORS = (
    ArchiveError,
    zipfile.BadZipFile,
    OSError,
    ValueError,
    RuntimeError,
    EOFError,
    NotImplementedError,
)

PREFIX = 64 * 1024  # bytes of each member read to recognise it
MAX_NPY_HEADER = 1024 * 1024  # a longer .npy header is refused unchecked (numpy's default limit is 10,000)
MAX_MEMBERS = 10_000  # members (of the archive, and of each zip inside it) checked
MAX_NESTED = 256 * 1024 * 1024  # a compressed zip member larger than this is not opened
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# Opcodes that make pickle.load call what a GLOBAL imported (BUILD, which sets state, is left out:
# text such as "cat\ndog\ncow\npig\nbird" parses as GLOBAL, GLOBAL, BUILD).
CALLS = frozenset({"REDUCE", "INST", "OBJ", "NEWOBJ", "NEWOBJ_EX"})
# pickletools' messages when the data ends early (as opposed to data that is not a pickle).
EXHAUSTED = ("exhausted", "not enough data", "no newline found", "remain")
OBJECT_DESCR = re.compile(r"""['"][<>|=]?O\d*['"]""")


class Unchecked(Exception):
    """A member that cannot be checked within the bounds (the message says why)."""


def scan(path: str, zf: zipfile.ZipFile) -> tuple[tuple[str, str, bool], ...]:
    """(member, what it holds, True) for each member of the archive holding pickled data, and
    (member, why, False) for each that could not be checked; every copy of a duplicated name
    is checked."""
    found: list[tuple[str, str, bool]] = []
    infos = zf.infolist()
    for info in infos[:MAX_MEMBERS]:
        if info.is_dir():
            continue
        try:
            what = _member(path, zf, info)
        except Unchecked as exc:
            found.append((info.filename, str(exc), False))
        except READ_ERRORS as exc:
            found.append((info.filename, f"cannot be read ({' '.join(str(exc).split())[:100]})", False))
        else:
            if what is not None:
                found.append((info.filename, what, True))
    if len(infos) > MAX_MEMBERS:
        extra = len(infos) - MAX_MEMBERS
        found.append(
            (
                infos[MAX_MEMBERS].filename,
                f"is one of {extra:,} members past the first {MAX_MEMBERS:,}",
                False,
            )
        )
    return tuple(found)


def _member(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """What pickled data the member holds (a phrase: "a pickle (protocol 4)"), or None."""
    with zf.open(info) as fh:
        head = fh.read(PREFIX)
        if head.startswith(NPY_MAGIC):
            return _npy(head, fh)
    if head.startswith(ZIP_MAGIC):
        return _nested(path, zf, info)
    return _raw(head, complete=len(head) >= info.file_size)


def _nested(path: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str | None:
    """A zip inside the archive (an .npz): each of its members, as numpy's NpzFile reads them."""
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_NESTED:
        raise Unchecked(f"is a compressed zip of {info.file_size:,} bytes, too large to open")
    with open_info(path, zf, info) as fh, zipfile.ZipFile(fh) as inner:
        entries = inner.infolist()
        for entry in entries[:MAX_MEMBERS]:
            with inner.open(entry) as member:  # only its first bytes are decompressed
                head = member.read(PREFIX)
                complete = len(head) >= entry.file_size
                why = _npy(head, member) if head.startswith(NPY_MAGIC) else _raw(head, complete)
            if why is not None:
                return f"{why} ({entry.filename!r:.80} in this zip)"
        if len(entries) > MAX_MEMBERS:
            raise Unchecked(f"holds {len(entries):,} members, more than the {MAX_MEMBERS:,} checked")
    return None


def _npy(head: bytes, rest: IO[bytes]) -> str | None:
    """Why an ``.npy`` stream holds pickles: its header's dtype has objects (numpy's
    ``format.read_array`` then calls ``pickle.load``). The header is read as numpy reads it
    (numpy/lib/format.py: magic, version, little-endian length, a Python literal dict)."""
    if len(head) < 10:
        return None  # numpy refuses it
    major = head[6]
    size = 2 if major == 1 else 4 if major in (2, 3) else 0
    if not size:
        return None  # numpy reads versions 1.0, 2.0 and 3.0 only
    length = int.from_bytes(head[8 : 8 + size], "little")
    if length > MAX_NPY_HEADER:
        raise Unchecked(f"is an .npy array whose header declares {length:,} bytes, too long to read")
    start = 8 + size
    data = head[start : start + length]
    if len(data) < length:
        data += rest.read(length - len(data))
    text = data.decode("utf-8" if major == 3 else "latin1", errors="replace")
    try:
        header = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        # numpy also accepts Python 2 longs (``3L``) in version 1 and 2 headers: read the text.
        header = None
    if isinstance(header, dict) and "descr" in header:
        if _has_object(header["descr"]):
            return "an .npy array of object dtype (pickled objects)"
        return None
    if OBJECT_DESCR.search(text):
        return "an .npy array whose header names an object dtype (pickled objects)"
    return None


def _has_object(descr: object) -> bool:
    import numpy as np

    try:
        return bool(np.lib.format.descr_to_dtype(descr).hasobject)  # type: ignore[arg-type]
    except (ValueError, TypeError, KeyError, IndexError, RecursionError):
        return isinstance(descr, (str, list, tuple)) and bool(OBJECT_DESCR.search(repr(descr)))


def _raw(head: bytes, complete: bool) -> str | None:
    """Why ``head`` (a member's first bytes, all of them when ``complete``) is a pickle, by its
    opcodes: a protocol 2+ header, a stream that parses to STOP, one that calls something
    before it goes wrong (``pickle.load`` has run those calls by then), or a prefix that parses
    to its very end."""
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return f"a pickle (protocol {head[1]})"
    stop, calls, clean = _opcodes(head)
    if stop or calls:
        return "a pickle" if stop else "pickle opcodes that call Python code"
    if clean and not complete and len(head) >= 1024:
        return "a pickle (its first 64 KB are pickle opcodes)"
    return None


def _opcodes(data: bytes) -> tuple[bool, bool, bool]:
    """Read ``data`` as pickle opcodes, emulating the unpickler's stack and memo as
    ``pickletools.dis`` does and running nothing: (reached STOP, a calling opcode reached with
    all well so far, all of ``data`` read with nothing wrong but its end). Where the emulation
    goes wrong, ``pickle.load`` raises too: what came before is all it would have run."""
    stack: list[bool] = []  # True marks a MARK
    memo: set[object] = set()
    calls = False
    stream = io.BytesIO(data)
    end = 0  # where the last whole opcode ends
    try:
        for op, arg, _pos in pickletools.genops(stream):
            end = stream.tell()
            before, name = op.stack_before, op.name
            if pickletools.markobject in before or (name == "POP" and stack and stack[-1]):
                if True not in stack:
                    return False, calls, False
                while not stack.pop():
                    pass
                count = before.index(pickletools.markobject) if pickletools.markobject in before else 0
            else:
                count = len(before)
            if len(stack) < count or any(stack[len(stack) - count :]):
                return False, calls, False
            if name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
                if not stack or stack[-1]:
                    return False, calls, False
                memo.add(len(memo) if name == "MEMOIZE" else arg)
            elif name in ("GET", "BINGET", "LONG_BINGET") and arg not in memo:
                return False, calls, False
            del stack[len(stack) - count :]
            calls = calls or name in CALLS
            stack.extend(item is pickletools.markobject for item in op.stack_after)
            if name == "STOP":
                return True, calls, True
    except Exception as exc:  # pickletools raises ValueError and others on what is not a pickle
        exhausted = isinstance(exc, ValueError) and any(m in str(exc) for m in EXHAUSTED)
        return False, calls, exhausted and _plausible_tail(data[end:])
    return False, calls, True


# Protocol 0 opcodes whose argument is a decimal number up to a newline (INT, LONG, GET, PUT;
# FLOAT's repr may also spell inf and nan): text such as "Infinity…" opens with INT's "I" and
# never reaches a newline, so a cut-off argument counts only if it could still be that number.
_DECIMAL_TAIL = {
    ord("I"): rb"[-+]?[0-9]*",
    ord("L"): rb"[-+]?[0-9]*L?",
    ord("g"): rb"[0-9]*",
    ord("p"): rb"[0-9]*",
}
_DECIMAL_TAIL[ord("F")] = rb"[-+0-9.eEinfa]*"


def _plausible_tail(tail: bytes) -> bool:
    """Whether the opcode cut off by the end of the data could still be a pickle's."""
    pattern = _DECIMAL_TAIL.get(tail[0]) if tail else None
    return pattern is None or re.fullmatch(pattern, tail[1:]) is not None
