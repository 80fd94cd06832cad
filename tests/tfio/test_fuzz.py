"""Fuzzing the table and proto readers on files TensorFlow wrote: only TFIOError, in bounded time.

Most random damage to an ``.index`` file is caught by the block CRCs, so half the mutants get
their CRCs fixed up afterwards: the damage then reaches the block parser, the protos, the entry
checks and the shards. A SIGALRM deadline turns a hang into a failure.
"""

from __future__ import annotations

import contextlib
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinspect.tfio import (
    TFIOError,
    bundle,
    keras_metadata,
    meta_graphs,
    objectgraph,
    protowire,
    read_bundle,
    read_object_graph,
    read_strings,
    savedmodel,
    table,
    verify,
)
from tests.conftest import deadline
from tests.tfio import craft
from tests.tfio.conftest import prefix


@pytest.fixture(autouse=True)
def _deadline() -> Iterator[None]:
    with deadline(120, "the readers ran longer than 120 s: they hang"):
        yield


def fix_crcs(original: bytes, data: bytes) -> bytes:
    """Recompute the trailer of every block of ``original``'s layout found intact in ``data``."""
    footer = table.read_footer(original[-48:])
    index = original[footer.index.offset : footer.index.offset + footer.index.size]
    handles = [table.decode_handle(v) for _, v in table.block_entries(index)] + [
        footer.metaindex,
        footer.index,
    ]
    out = bytearray(data)
    for h in handles:
        end = h.offset + h.size
        if end + 5 <= len(out):
            out[end + 1 : end + 5] = craft.trailer(bytes(out[h.offset : end]), out[end])[1:]
    return bytes(out)


def read_everything(p: Path) -> None:
    """What a loader does with a checkpoint: every entry, its strings, its CRC, the object graph."""
    b = read_bundle(p)
    for entry in b.entries.values():
        verify(b, entry)
        if entry.dtype == "string":
            strings = read_strings(b, entry)
            if entry.key == "_CHECKPOINTABLE_OBJECT_GRAPH" and strings:
                read_object_graph(strings[0])


CHECKPOINTS = ("small", "keras_weights_legacy", "sliced_v1", "sharded", "dtypes", "variant")


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_mutated_index(tf_files: Path, tmp_path: Path, name: str) -> None:
    source = prefix(tf_files, name)
    for path in source.parent.glob(source.name + ".data-*"):
        shutil.copy(path, tmp_path / path.name)
    original = Path(f"{source}.index").read_bytes()
    rng = random.Random(f"tfio-{name}")
    outcomes = {"ok": 0, "refused": 0}
    for i in range(150):
        data = craft.mutate(rng, original)
        if i % 2:
            data = fix_crcs(original, data)
        (tmp_path / f"{source.name}.index").write_bytes(data)
        try:
            read_everything(tmp_path / source.name)
            outcomes["ok"] += 1
        except TFIOError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
    assert outcomes["refused"] > 50, outcomes


def test_mutated_shards(tf_files: Path, tmp_path: Path) -> None:
    """Damaged tensor data (strings, variants, numbers): verify says False or a TFIOError."""
    source = prefix(tf_files, "dtypes")
    shutil.copy(f"{source}.index", tmp_path / "raw.index")
    shard = Path(f"{source}.data-00000-of-00001").read_bytes()
    rng = random.Random(7)
    failed = 0
    for _ in range(150):
        (tmp_path / "raw.data-00000-of-00001").write_bytes(craft.mutate(rng, shard))
        try:
            b = read_bundle(tmp_path / "raw")
            checks = [verify(b, e) for e in b.entries.values()]
            for e in b.entries.values():
                if e.dtype == "string":
                    read_strings(b, e)
            failed += not all(checks)
        except TFIOError:
            failed += 1
    assert failed > 100


@pytest.mark.parametrize("name", ["keras_weights_legacy", "many_ckpt"])
def test_mutated_object_graph(tf_files: Path, name: str) -> None:
    b = read_bundle(prefix(tf_files, name))
    [data] = read_strings(b, b.entries["_CHECKPOINTABLE_OBJECT_GRAPH"])
    rng = random.Random(name)
    for _ in range(15 if name == "many_ckpt" else 400):
        with contextlib.suppress(TFIOError):
            read_object_graph(craft.mutate(rng, data))


@pytest.mark.parametrize("name", ["keras_savedmodel", "module_savedmodel"])
def test_mutated_savedmodel(tf_files: Path, tmp_path: Path, name: str) -> None:
    rng = random.Random(name)
    for file, read in (("saved_model.pb", meta_graphs), ("keras_metadata.pb", keras_metadata)):
        source = tf_files / name / file
        if not source.exists():
            continue
        original = source.read_bytes()
        for _ in range(150):
            (tmp_path / file).write_bytes(craft.mutate(rng, original))
            with contextlib.suppress(TFIOError):
                read(tmp_path / file)


# -- arbitrary bytes ---------------------------------------------------------------------------

ANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(st.binary(max_size=400))
@ANY
def test_any_block(data: bytes) -> None:
    with contextlib.suppress(TFIOError):
        list(table.block_entries(data))


@given(st.binary(min_size=48, max_size=48))
@ANY
def test_any_footer(data: bytes) -> None:
    with contextlib.suppress(TFIOError):
        table.read_footer(data)


@given(st.binary(max_size=400))
@ANY
def test_any_protos(data: bytes) -> None:
    for read in (
        lambda: protowire.decode(bundle.HEADER, data),
        lambda: protowire.decode(bundle.ENTRY, data),
        lambda: protowire.decode(savedmodel.SIGNATURE_MAP_ENTRY, data),
        lambda: protowire.decode(savedmodel.SAVED_METADATA, data),
        lambda: protowire.decode(objectgraph.TRACKABLE_OBJECT_GRAPH, data),
        lambda: read_object_graph(data),
        lambda: bundle._slice_key(b"\0" + data),
        lambda: bundle._extent(data, (4, 4), "t"),
    ):
        with contextlib.suppress(TFIOError):
            read()


@given(st.binary(max_size=2000))
@ANY
def test_any_files(tmp_path: Path, data: bytes) -> None:
    for name, read in (("ckpt.index", lambda p: read_bundle(p.with_suffix(""))),
                       ("saved_model.pb", meta_graphs), ("keras_metadata.pb", keras_metadata)):  # fmt: skip
        path = tmp_path / name
        path.write_bytes(data)
        with contextlib.suppress(TFIOError):
            read(path)


@given(st.lists(st.tuples(st.binary(max_size=12), st.binary(max_size=40)), max_size=30))
@ANY
def test_any_entries_in_a_valid_table(tmp_path: Path, items: list[tuple[bytes, bytes]]) -> None:
    """Arbitrary keys and values in a well-formed table: the bundle reader refuses or reads them."""
    rows = sorted(dict([(b"", craft.header()), *items]).items())
    path = craft.write_table(tmp_path / "ckpt.index", rows)
    (tmp_path / "ckpt.data-00000-of-00001").write_bytes(bytes(range(256)))
    assert [k for k, _ in table.entries(path)] == [k for k, _ in rows]
    with contextlib.suppress(TFIOError):
        read_everything(tmp_path / "ckpt")


@given(st.binary(max_size=300))
@ANY
def test_entry_parser_agrees_with_the_schema(data: bytes) -> None:
    """The hand-written BundleEntryProto parser reads what the declarative decoder reads."""
    try:
        fast = bundle._parse_entry(data)
    except TFIOError:
        fast = None
    try:
        slow = protowire.decode(bundle.ENTRY, data)
    except TFIOError:
        slow = None
    if fast is not None and slow is not None:
        shape = slow["shape"] or {"dim": [], "unknown_rank": False}
        assert fast == {
            "dtype": slow["dtype"], "dims": [d["size"] for d in shape["dim"]],
            "unknown_rank": shape["unknown_rank"], "shard_id": slow["shard_id"], "offset": slow["offset"],
            "size": slow["size"], "crc32c": slow["crc32c"], "slices": slow["slices"],
        }  # fmt: skip


dim = st.builds(
    lambda size, name: craft.field(2, craft.field(1, size) + (craft.field(2, name) if name else b"")),
    st.integers(-(2**63), 2**63 - 1),
    st.sampled_from([b"", b"batch"]),
)
shape_field = st.builds(
    lambda dims, rank: craft.field(2, b"".join(dims) + rank),
    st.lists(dim, max_size=6),
    st.sampled_from([b"", craft.field(3, 1), craft.field(3, 0)]),
)
entry_field = st.one_of(
    shape_field,
    st.builds(craft.field, st.sampled_from([1, 3, 4, 5]), st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: craft.field(6, v, wire=5), st.integers(0, 2**32 - 1)),
    st.builds(craft.field, st.just(7), st.binary(max_size=6)),
    st.builds(craft.field, st.integers(8, 20), st.binary(max_size=4)),
)


@given(st.lists(entry_field, max_size=8))
@ANY
def test_entry_parser_agrees_on_entries(fields: list[bytes]) -> None:
    test_entry_parser_agrees_with_the_schema.hypothesis.inner_test(b"".join(fields))  # type: ignore[attr-defined]
    assert bundle._parse_entry(b"".join(fields))  # these are all well-formed
