"""Checkpoint bundles: entries, tensor bytes and checksums against what TensorFlow reads."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from kinspect.tfio import TFIOError, bundle, read_bundle, read_strings, table, verify
from kinspect.tfio.bundle import Bundle, Entry, chunks
from kinspect.tfio.crc import crc32c, mask
from tests.tfio import craft
from tests.tfio.conftest import CHECKPOINTS, oracle, prefix

DT_FLOAT, DT_STRING = 1, 7


def stored(b: Bundle, entry: Entry) -> bytes:
    return b"".join(chunks(b, entry, chunk_bytes=97))  # small pieces: the seams are tested too


def assembled(b: Bundle, entry: Entry) -> bytes:
    """A partitioned tensor put together from its stored slices."""
    full = np.zeros(entry.shape, entry.dtype)
    for piece in b.pieces[entry.key]:
        assert piece.extent is not None
        where = tuple(slice(start, None if n is None else start + n) for start, n in piece.extent)
        full[where] = np.frombuffer(stored(b, piece), entry.dtype).reshape(piece.shape)
    return full.tobytes()


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_entries_match_tensorflow(tf_files: Path, name: str) -> None:
    """Every key TensorFlow lists, with its dtype, shape and values (the bytes at offset/size hash
    like the array tf.train.load_checkpoint returns; strings are equal), and every CRC checks."""
    expected = oracle(tf_files, name)["keys"]
    b = read_bundle(prefix(tf_files, name))
    assert list(b.entries) == sorted(b.entries) and set(b.entries) == set(expected)
    for key, entry in b.entries.items():
        want = expected[key]
        assert (entry.dtype, list(entry.shape)) == (want["dtype"], want["shape"]), key
        if "strings" in want:
            assert [s.hex() for s in read_strings(b, entry)] == want["strings"], key
        elif "sha256" in want:
            data = assembled(b, entry) if entry.sliced else stored(b, entry)
            assert hashlib.sha256(data).hexdigest() == want["sha256"], key
        else:
            assert entry.dtype == "variant"
        assert verify(b, entry), key


def test_dtypes(tf_files: Path) -> None:
    b = read_bundle(prefix(tf_files, "dtypes"))
    dtypes = {key: entry.dtype for key, entry in b.entries.items()}
    assert dtypes == {
        "f16": "float16", "f32": "float32", "f64": "float64", "bf16": "bfloat16", "i8": "int8",
        "i16": "int16", "i32": "int32", "i64": "int64", "u8": "uint8", "u16": "uint16", "u32": "uint32",
        "u64": "uint64", "c64": "complex64", "bool": "bool", "scalar_f32": "float32",
        "scalar_i64": "int64", "scalar_bool": "bool", "empty_f32": "float32", "empty_str": "string",
        "str": "string", "scalar_str": "string", "long_str": "string",
    }  # fmt: skip
    assert b.entries["scalar_f32"].shape == () and b.entries["empty_f32"].shape == (0, 4)
    assert np.frombuffer(stored(b, b.entries["scalar_f32"]), "<f4")[0] == 3.25
    assert read_strings(b, b.entries["str"]) == [
        b"",
        b"kernel",
        b"\xff\x00\x80 not utf-8",
        "ünïcode".encode(),
    ]
    assert read_strings(b, b.entries["empty_str"]) == []
    assert b.num_shards == 1 and b.endianness == "little" and b.version == 1


def test_sharded(tf_files: Path) -> None:
    """TF2's maximum-shard-size policy: five data files, a variable split in slices across them."""
    b = read_bundle(prefix(tf_files, "sharded"))
    assert b.num_shards == 5
    big = b.entries["big/.ATTRIBUTES/VARIABLE_VALUE"]
    assert big.sliced and big.shape == (200, 10) and len(big.slices) > 1
    pieces = b.pieces[big.key]
    assert [p.extent for p in pieces] == list(big.slices)
    assert len({p.shard for p in pieces}) > 1
    assert sum(p.num_elements for p in pieces) == big.num_elements
    assert b.shard_path(4).endswith("ckpt.data-00004-of-00005")
    with pytest.raises(TFIOError, match="partitioned"):
        next(chunks(b, big))


def test_sliced(tf_files: Path) -> None:
    b = read_bundle(prefix(tf_files, "sliced_raw"))
    w = b.entries["w"]
    assert w.sliced and w.slices == (((0, 5), (0, None)), ((5, 5), (0, None)))
    assert [p.shape for p in b.pieces["w"]] == [(5, 4), (5, 4)] and not b.entries["b"].sliced
    v1 = read_bundle(prefix(tf_files, "sliced_v1"))
    assert v1.entries["emb"].sliced and len(v1.pieces["emb"]) == 3 and not v1.entries["bias"].sliced


# -- damaged shards ----------------------------------------------------------------------------


def copy(tf_files: Path, name: str, tmp_path: Path) -> Path:
    source = prefix(tf_files, name)
    for path in source.parent.glob(source.name + ".*"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path / source.name


def test_flipped_data_byte_fails_verify_only_there(tf_files: Path, tmp_path: Path) -> None:
    p = copy(tf_files, "dtypes", tmp_path)
    b = read_bundle(p)
    damaged: set[str] = set()
    for key in ("f32", "bf16", "str", "scalar_bool"):
        entry = b.entries[key]
        data = bytearray(Path(b.shard_path(0)).read_bytes())
        data[entry.offset + entry.size - 1] ^= 0x04
        Path(b.shard_path(0)).write_bytes(data)
        damaged.add(key)
        assert {k for k, e in b.entries.items() if not verify(b, e)} == damaged


def test_string_length_checksum(tf_files: Path, tmp_path: Path) -> None:
    p = copy(tf_files, "dtypes", tmp_path)
    b = read_bundle(p)
    entry = b.entries["str"]
    data = bytearray(Path(b.shard_path(0)).read_bytes())
    data[entry.offset] ^= 0x01  # the first length
    Path(b.shard_path(0)).write_bytes(data)
    with pytest.raises(TFIOError, match="length checksum mismatch"):
        read_strings(b, entry)
    assert not verify(b, entry)


def test_variant_checksum(tf_files: Path, tmp_path: Path) -> None:
    p = copy(tf_files, "variant", tmp_path)
    b = read_bundle(p)
    [entry] = [e for e in b.entries.values() if e.dtype == "variant"]
    assert verify(b, entry)
    data = bytearray(Path(b.shard_path(0)).read_bytes())
    data[entry.offset + entry.size // 2] ^= 0x01
    Path(b.shard_path(0)).write_bytes(data)
    assert not verify(b, entry)


def test_missing_shard(tf_files: Path, tmp_path: Path) -> None:
    p = copy(tf_files, "sharded", tmp_path)
    Path(f"{p}.data-00002-of-00005").unlink()
    with pytest.raises(TFIOError, match=r"missing data shard ckpt\.data-00002-of-00005") as caught:
        read_bundle(p)
    assert caught.value.path == f"{p}.data-00002-of-00005"


def test_short_shard(tf_files: Path, tmp_path: Path) -> None:
    p = copy(tf_files, "keras_weights", tmp_path)
    shard = Path(f"{p}.data-00000-of-00001")
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(TFIOError, match=r"ends at byte \d+ of ckpt.data-00000-of-00001, which has"):
        read_bundle(p)


def test_shard_shrunk_after_reading_the_index(tf_files: Path, tmp_path: Path) -> None:
    p = copy(tf_files, "dtypes", tmp_path)
    b = read_bundle(p)
    Path(b.shard_path(0)).write_bytes(b"")
    with pytest.raises(TFIOError, match="shorter than its index says"):
        verify(b, b.entries["f64"])
    with pytest.raises(TFIOError, match="shorter than its index says"):
        read_strings(b, b.entries["long_str"])


def test_string_limit(tf_files: Path) -> None:
    b = read_bundle(prefix(tf_files, "dtypes"))
    with pytest.raises(TFIOError, match="over the 1000-byte limit"):
        read_strings(b, b.entries["long_str"], limit=1000)
    with pytest.raises(TFIOError, match="not a whole string tensor"):
        read_strings(b, b.entries["f32"])


# -- crafted entries ---------------------------------------------------------------------------


def crafted(tmp_path: Path, entries: dict[bytes, bytes], shard: bytes = b"\0" * 64, **header: int) -> Path:
    p = tmp_path / "ckpt"
    num_shards = header.get("num_shards", 1)
    if num_shards >= 1:
        Path(f"{p}.data-00000-of-{num_shards:05d}").write_bytes(shard)
    craft.write_table(Path(f"{p}.index"), [(b"", craft.header(**header)), *sorted(entries.items())])
    return p


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (craft.entry(DT_FLOAT, (3, 4), 0, 0, 40), r"float32 \[3, 4\] takes 48 bytes, the index says 40"),
        (craft.entry(DT_FLOAT, (2**32, 2**32), 0, 0, 16), "too many elements"),
        (craft.entry(DT_FLOAT, (2**31, 2**31), 0, 0, 16), "takes 18446744073709551616 bytes"),
        (craft.entry(DT_FLOAT, (-1, 4), 0, 0, 16), "negative dimension"),
        (craft.entry(DT_FLOAT, (4,), 0, 60, 16), "ends at byte 76 of ckpt.data-00000-of-00001, which has 64"),
        (craft.entry(DT_FLOAT, (4,), 3, 0, 16), "is in shard 3 of a checkpoint of 1"),
        (craft.entry(DT_FLOAT, (4,), 0, -8, 16), "negative offset"),
        (craft.entry(0, (4,), 0, 0, 16), "has no dtype"),
        (craft.entry(DT_STRING, (100,), 0, 0, 50), "100 strings cannot fit in 50 bytes"),
        (craft.field(1, DT_FLOAT) + craft.field(2, craft.field(3, 1)), "shape of unknown rank"),
        (craft.field(1, DT_FLOAT) + craft.field(2, craft.shape(*[1] * 300)), "more than 254 dimensions"),
        (craft.field(1, DT_FLOAT) + craft.field(2, b"\x12\x7f"), "past the end of its message"),
        (craft.entry(DT_FLOAT, (4,), 0, 0, 16) + craft.field(7, craft.field(1, craft.field(1, 3))), "slice"),
    ],
)
def test_bad_entry(tmp_path: Path, value: bytes, message: str) -> None:
    with pytest.raises(TFIOError, match=message):
        read_bundle(crafted(tmp_path, {b"t": value}))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ({"num_shards": 0}, "claims 0 data shards"),
        ({"num_shards": 10**6}, "claims 1000000 data shards"),
        ({"min_consumer": 2}, "version 2 is newer"),
        ({"bad_consumer": 1}, "refuses readers of version 1"),
        ({"endianness": 5}, "unknown endianness 5"),
    ],
)
def test_bad_header(tmp_path: Path, header: dict[str, int], message: str) -> None:
    with pytest.raises(TFIOError, match=message):
        read_bundle(crafted(tmp_path, {}, **header))


def test_no_header(tmp_path: Path) -> None:
    p = tmp_path / "ckpt"
    craft.write_table(Path(f"{p}.index"), [(b"a", craft.entry(DT_FLOAT, (), 0, 0, 4))])
    with pytest.raises(TFIOError, match="no header entry"):
        read_bundle(p)


def test_slice_key_decoding(tmp_path: Path) -> None:
    """Stored slices are keyed by OrderedCode (0, name, rank, start and length per dimension):
    negative numbers, multi-byte numbers and escaped bytes in the name decode exactly."""
    key = b"\0" + b"a\xff\x00b\x00\xff" + b"\x00\x01" + b"\x01\x02"  # name "a\xffb\x00", rank 2
    key += bytes([0x80 ^ 0]) + bytes([0x7F])  # start 0, length -1 (the whole dimension)
    key += bytes([0xC0 | (300 >> 8), 300 & 0xFF]) + bytes([0x80 ^ 5])  # start 300, length 5
    with pytest.raises(TFIOError, match="not UTF-8"):
        bundle._slice_key(key)
    key = key.replace(b"a\xff\x00b\x00\xff", b"w")
    assert bundle._slice_key(key) == ("w", ((0, None), (300, 5)))
    with pytest.raises(TFIOError):
        bundle._slice_key(key[:-1])
    with pytest.raises(TFIOError, match="trailing bytes"):
        bundle._slice_key(key + b"\x80")


def test_big_endian_strings(tmp_path: Path) -> None:
    """A bundle from a big-endian machine: string lengths are checksummed as big-endian uint32."""
    strings = [b"abc", b"", b"x" * 200]
    lengths = b"".join(craft.varint(len(s)) for s in strings)
    crc = 0
    for s in strings:
        crc = crc32c(len(s).to_bytes(4, "big"), crc)
    checksum = mask(crc).to_bytes(4, "big")
    data = lengths + checksum + b"".join(strings)
    total = crc32c(b"".join(s for s in strings), crc32c(checksum, crc))
    value = craft.entry(DT_STRING, (3,), 0, 0, len(data), mask(total))
    b = read_bundle(crafted(tmp_path, {b"s": value}, shard=data, endianness=1))
    assert b.endianness == "big"
    assert read_strings(b, b.entries["s"]) == strings and verify(b, b.entries["s"])


def test_entries_over_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "MAX_ENTRIES", 10)
    items = {f"k{i:02d}".encode(): craft.entry(DT_FLOAT, (), 0, 0, 4) for i in range(20)}
    with pytest.raises(TFIOError, match="more than 10 entries"):
        read_bundle(crafted(tmp_path, items))


def test_no_numpy_at_import() -> None:
    import subprocess
    import sys

    code = "import sys, kinspect.tfio; assert 'numpy' not in sys.modules, 'numpy imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_unopenable_files(tmp_path: Path) -> None:
    with pytest.raises(
        TFIOError, match=r"cannot open checkpoint index nothing\.index: No such file"
    ) as caught:
        read_bundle(tmp_path / "nothing")
    assert caught.value.path == str(tmp_path / "nothing.index")
    (tmp_path / "dir.index").mkdir()
    with pytest.raises(TFIOError, match="Is a directory"):
        read_bundle(tmp_path / "dir")


def test_partitioned_tensor_checks_its_slices(tmp_path: Path) -> None:
    """A slice the full entry names must be stored, with the dtype and shape of its extent."""
    full = craft.entry(DT_FLOAT, (10, 4), 0, 0, 0) + craft.field(
        7, craft.field(1, craft.field(1, 0) + craft.field(2, 5)) + craft.field(1, b"")
    )
    key = b"\0w\x00\x01\x01\x02" + bytes([0x80, 0x85, 0x80, 0x7F])  # w, rank 2, 0,5 and 0,-1
    assert bundle._slice_key(key) == ("w", ((0, 5), (0, None)))
    good = craft.entry(DT_FLOAT, (5, 4), 0, 0, 80)
    b = read_bundle(crafted(tmp_path, {b"w": full, key: good}, shard=bytes(80)))
    assert b.entries["w"].slices == (((0, 5), (0, None)),) and b.pieces["w"][0].shape == (5, 4)
    with pytest.raises(TFIOError, match=r"'w' lacks its slice 0,5:-"):
        read_bundle(crafted(tmp_path, {b"w": full}))
    nested = good + craft.field(7, craft.field(1, b"") + craft.field(1, b""))
    with pytest.raises(TFIOError, match="a stored slice of tensor 'w' is itself partitioned"):
        read_bundle(crafted(tmp_path, {b"w": full, key: nested}, shard=bytes(80)))
    wrong = craft.entry(DT_FLOAT, (4, 5), 0, 0, 80)
    with pytest.raises(TFIOError, match=r"slice 0,5:- of 'w' is float32 \[4, 5\], not float32 \[5, 4\]"):
        read_bundle(crafted(tmp_path, {b"w": full, key: wrong}, shard=bytes(80)))
