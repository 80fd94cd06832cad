"""A reader child may hand over a first value before its result (``send_early``): the parent
parses a legacy .h5 file's ``model_config`` while the child lists the weights."""

from __future__ import annotations

import os

import pytest

from kinspect.errors import InputError
from kinspect.loaders import isolate, snapshot


def test_early_value_then_result() -> None:
    big = "x" * 300_000  # larger than a pipe's buffer

    def work() -> str:
        isolate.send_early(big)
        return "done"

    pending = isolate.start("f", work, early=True)
    assert pending.early() == big
    assert pending() == "done"


def test_early_never_read_does_not_block_the_child() -> None:
    def work() -> str:
        isolate.send_early("y" * 300_000)
        return "done"

    assert isolate.start("f", work, early=True)() == "done"


def test_a_child_that_dies_first_sends_nothing_early() -> None:
    def work() -> str:
        os._exit(7)

    pending = isolate.start("f", work, early=True)
    assert pending.early() is None
    with pytest.raises(InputError, match="crashed"):
        pending()


def test_send_early_outside_a_child_does_nothing() -> None:
    isolate.send_early("ignored")  # no child, no pipe: no error
    pending = isolate.start("f", lambda: 1)
    assert pending.early() is None and pending() == 1


def test_legacy_h5_config_comes_first() -> None:
    pending = snapshot.begin("samples/mnist_cnn.h5", early="model_config")
    config = pending.early()
    snap = snapshot.Snapshot.from_json(pending())
    assert isinstance(config, str) and config == snap.attr("", "model_config")
