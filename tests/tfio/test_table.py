"""The ``.index`` table reader against tables TensorFlow wrote, and crafted damage."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from kinspect.tfio import TFIOError, table
from kinspect.tfio.crc import crc32c, mask
from tests.tfio import craft
from tests.tfio.conftest import CHECKPOINTS, oracle, prefix


def index_of(root: Path, name: str) -> Path:
    return Path(f"{prefix(root, name)}.index")


def data_blocks(path: Path) -> list[table.BlockHandle]:
    data = path.read_bytes()
    footer = table.read_footer(data[-48:])
    with open(path, "rb") as f:
        index = table.read_block(f, footer.index, len(data) - 48)
    return [table.decode_handle(value) for _, value in table.block_entries(index)]


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_every_key_tensorflow_lists(tf_files: Path, name: str) -> None:
    """The keys are exactly those tf.train.load_checkpoint lists (stored slices aside), in order."""
    keys = [k for k, _ in table.entries(index_of(tf_files, name))]
    assert keys[0] == b"" and keys == sorted(keys)
    whole = {k.decode() for k in keys[1:] if not k.startswith(b"\0")}
    assert whole == set(oracle(tf_files, name)["keys"])


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_rewriting_reproduces_the_file(tf_files: Path, name: str, tmp_path: Path) -> None:
    """What we read, written back by a copy of TensorFlow's TableBuilder, is the same file byte for
    byte: every entry of every block was read, none invented, in TensorFlow's order."""
    path = index_of(tf_files, name)
    items = list(table.entries(path))
    copy = craft.write_table(tmp_path / "copy.index", items)
    assert copy.read_bytes() == path.read_bytes()


def test_many_data_blocks(tf_files: Path) -> None:
    """40 000 keys span ten 256 KiB blocks; the keys of the last block are read too (a reader of the
    first block only would miss most of them)."""
    path = index_of(tf_files, "many_raw")
    blocks = data_blocks(path)
    assert len(blocks) >= 8
    with open(path, "rb") as f:
        last_block = table.read_block(f, blocks[-1], path.stat().st_size - 48)
    last_keys = [k.decode() for k, _ in table.block_entries(last_block)]
    keys = {k.decode() for k, _ in table.entries(path)} - {""}
    assert len(keys) == 40_000 and set(last_keys) <= keys
    assert keys == set(oracle(tf_files, "many_raw")["keys"])
    assert len(data_blocks(index_of(tf_files, "many_ckpt"))) >= 2


# -- damage to a table TensorFlow wrote --------------------------------------------------------


def damaged(tf_files: Path, tmp_path: Path, name: str = "keras_weights") -> tuple[Path, bytearray]:
    path = tmp_path / "ckpt.index"
    shutil.copy(index_of(tf_files, name), path)
    return path, bytearray(path.read_bytes())


def read_all(path: Path) -> list[tuple[bytes, bytes]]:
    return list(table.entries(path))


def test_flipped_byte_in_any_block_is_a_crc_error(tf_files: Path, tmp_path: Path) -> None:
    path, data = damaged(tf_files, tmp_path)
    footer = table.read_footer(bytes(data[-48:]))
    spans = [(h.offset, h.size) for h in data_blocks(path)] + [
        (footer.metaindex.offset, footer.metaindex.size),
        (footer.index.offset, footer.index.size),
    ]
    for offset, size in spans:
        for at in (offset, offset + size // 2, offset + size):  # first, middle, the type byte
            bad = bytearray(data)
            bad[at] ^= 0x10
            path.write_bytes(bad)
            with pytest.raises(TFIOError, match="checksum mismatch"):
                read_all(path)


def test_truncated(tf_files: Path, tmp_path: Path) -> None:
    path, data = damaged(tf_files, tmp_path)
    for length in (0, 10, 47, 48, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:length])
        with pytest.raises(TFIOError):
            read_all(path)


def test_wrong_magic(tf_files: Path, tmp_path: Path) -> None:
    path, data = damaged(tf_files, tmp_path)
    data[-1] ^= 0x01
    path.write_bytes(data)
    with pytest.raises(TFIOError, match="bad table magic"):
        read_all(path)


@pytest.mark.parametrize(("kind", "message"), [(1, "Snappy-compressed data block"), (2, "unknown type 2")])
def test_compressed_block_is_refused(tf_files: Path, tmp_path: Path, kind: int, message: str) -> None:
    """A block whose type byte says Snappy, with a CRC that matches: a clear refusal."""
    path, data = damaged(tf_files, tmp_path)
    [handle] = data_blocks(path)
    end = handle.offset + handle.size
    data[end : end + 5] = craft.trailer(bytes(data[handle.offset : end]), kind)
    path.write_bytes(data)
    with pytest.raises(TFIOError, match=message):
        read_all(path)


# -- crafted tables ----------------------------------------------------------------------------


ITEMS = [(b"", b"h"), *((f"key/{i:04d}".encode(), b"v" * (i % 7)) for i in range(300))]


def test_crafted_table_round_trip(tmp_path: Path) -> None:
    path = craft.write_table(tmp_path / "t.index", ITEMS, block_bytes=512)
    assert read_all(path) == ITEMS
    assert len(data_blocks(path)) >= 4


def rewrite_block(path: Path, handle: table.BlockHandle, contents: bytes) -> None:
    """Replace one block's contents (same size) and its trailer, keeping the CRC right."""
    data = bytearray(path.read_bytes())
    assert len(contents) == handle.size
    data[handle.offset : handle.offset + handle.size + 5] = contents + craft.trailer(contents)
    path.write_bytes(data)


def first_block(tmp_path: Path) -> tuple[Path, table.BlockHandle, bytearray]:
    path = craft.write_table(tmp_path / "t.index", ITEMS, block_bytes=512)
    handle = data_blocks(path)[0]
    return path, handle, bytearray(path.read_bytes()[handle.offset : handle.offset + handle.size])


def test_restart_count_past_the_block(tmp_path: Path) -> None:
    path, handle, contents = first_block(tmp_path)
    contents[-4:] = struct.pack("<I", len(contents))
    rewrite_block(path, handle, bytes(contents))
    with pytest.raises(TFIOError, match="restart points"):
        read_all(path)


def test_restart_offset_out_of_range(tmp_path: Path) -> None:
    path, handle, contents = first_block(tmp_path)
    count = struct.unpack("<I", contents[-4:])[0]
    contents[-8:-4] = struct.pack("<I", 10**6)  # the last restart offset
    assert count > 1
    rewrite_block(path, handle, bytes(contents))
    with pytest.raises(TFIOError, match="restart points out of order or out of range"):
        read_all(path)


def test_shared_prefix_longer_than_the_previous_key(tmp_path: Path) -> None:
    path, handle, contents = first_block(tmp_path)
    # the second entry (after the header's 3 + 0 + 1 bytes): shared = 100
    assert contents[:4] == b"\x00\x00\x01h"
    contents[4] = 100
    rewrite_block(path, handle, bytes(contents))
    with pytest.raises(TFIOError, match="shared key prefix"):
        read_all(path)


def test_value_length_past_the_block(tmp_path: Path) -> None:
    path, handle, contents = first_block(tmp_path)
    contents[2] = 0x7F  # the header's value length
    rewrite_block(path, handle, bytes(contents))
    with pytest.raises(TFIOError, match=r"lengths past the block|restart point inside"):
        read_all(path)


def handles_table(tmp_path: Path, handles: list[tuple[bytes, bytes]]) -> Path:
    """A table whose index block holds ``handles`` (separator, encoded handle) over real data blocks."""
    path = craft.write_table(tmp_path / "t.index", ITEMS, block_bytes=512)
    data = path.read_bytes()
    footer = table.read_footer(data[-48:])
    index = craft.block(handles, restart_interval=1)
    body = data[: footer.index.offset]
    footer_bytes = (
        craft.varint(footer.metaindex.offset)
        + craft.varint(footer.metaindex.size)
        + craft.varint(len(body))
        + craft.varint(len(index))
    ).ljust(40, b"\0") + struct.pack("<Q", table.MAGIC)
    path.write_bytes(body + index + craft.trailer(index) + footer_bytes)
    return path


def test_block_handle_past_the_file(tmp_path: Path) -> None:
    path = handles_table(tmp_path, [(b"\xff", craft.varint(0) + craft.varint(10**9))])
    with pytest.raises(TFIOError, match=r"past the end of the table|more than"):
        read_all(path)
    path = handles_table(tmp_path, [(b"\xff", craft.varint(10**12) + craft.varint(100))])
    with pytest.raises(TFIOError, match="past the end of the table"):
        read_all(path)


def test_the_same_block_twice(tmp_path: Path) -> None:
    """An index naming one block over and over would make reading quadratic: refused."""
    path = craft.write_table(tmp_path / "t.index", ITEMS, block_bytes=512)
    first = data_blocks(path)[0]
    handle = craft.varint(first.offset) + craft.varint(first.size)
    path = handles_table(tmp_path, [(b"\xff" * i, handle) for i in range(1, 4)])
    with pytest.raises(TFIOError, match="overlaps"):
        read_all(path)


def test_keys_out_of_order(tmp_path: Path) -> None:
    path = craft.write_table(tmp_path / "t.index", [(b"", b"h"), (b"b", b""), (b"a", b"")])
    with pytest.raises(TFIOError, match="out of order"):
        read_all(path)


def test_key_past_its_separator(tmp_path: Path) -> None:
    path = craft.write_table(tmp_path / "t.index", ITEMS, block_bytes=512)
    handles = data_blocks(path)
    encoded = [(b"", craft.varint(h.offset) + craft.varint(h.size)) for h in handles[:1]]
    with pytest.raises(TFIOError, match="past its index entry"):
        read_all(handles_table(tmp_path, encoded))


def test_too_many_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "MAX_ENTRIES", 100)
    with pytest.raises(TFIOError, match="more than 100 entries"):
        read_all(craft.write_table(tmp_path / "t.index", ITEMS))


def test_block_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(table, "MAX_BLOCK_BYTES", 1000)
    with pytest.raises(TFIOError, match=r"block of \d+ bytes \(more than 1000\)"):
        read_all(craft.write_table(tmp_path / "t.index", ITEMS))


def test_overlong_varint_in_the_footer(tmp_path: Path) -> None:
    path = tmp_path / "t.index"
    path.write_bytes(b"\xff" * 40 + struct.pack("<Q", table.MAGIC))
    with pytest.raises(TFIOError, match="varint longer than 10 bytes"):
        read_all(path)


def test_empty_table(tmp_path: Path) -> None:
    assert read_all(craft.write_table(tmp_path / "t.index", [])) == []


def test_trailer_crc_is_masked() -> None:
    contents = b"abc"
    stored = struct.unpack("<I", craft.trailer(contents)[1:])[0]
    assert stored == mask(crc32c(b"abc\x00")) != crc32c(b"abc\x00")
