"""The channel's bookkeeping, fed numpy batches directly (what the dataset tap hands it)."""

from __future__ import annotations

import numpy as np

from diagnostics.worker.adapters import adapt
from diagnostics.worker.recorder import Channel
from diagnostics.worker.userframes import UserFiles

DATA = np.arange(60, dtype=np.float32).reshape(30, 2)


def _channel(source) -> Channel:
    adapter = adapt(source, role="train", user_files=UserFiles())
    return Channel("train", adapter, emit=lambda *a, **k: None), adapter


def _feed(channel: Channel, start: int, stop: int) -> None:
    channel.on_element([DATA[start:stop], np.zeros(stop - start)], 1)


def test_duplicated_rows_are_all_seen():
    data = np.ones((8, 3), dtype=np.float32)
    channel, _ = _channel(data)
    channel.on_element([data[:4], np.zeros(4)], 1)
    stats = channel.end_epoch()
    assert stats["samples_seen"] == 1
    assert stats["seen_ranges"] == [[0, 7]]
    assert channel.coverage_summary()["never_seen_rows"] == 0


def test_replayed_only_after_the_source_ran_dry():
    def one_pass():
        for start in range(0, 30, 10):
            yield DATA[start : start + 10], np.zeros(10)

    channel, adapter = _channel(one_pass())
    produced = list(adapter.wrap())  # the source runs dry after 3 batches
    assert len(produced) == 3 and adapter.exhausted and adapter.pass_length == 3
    for start in (0, 10, 20, 0):
        _feed(channel, start, start + 10)
    elements = channel.take()
    assert [e.repeated for e in elements] == [False, False, False, True]
    assert [e.replayed for e in elements] == [False, False, False, True]


def test_replayed_rows_are_mapped_per_epoch():
    def one_pass():
        for start in range(0, 30, 10):
            yield DATA[start : start + 10], np.zeros(10)

    channel, adapter = _channel(one_pass())
    list(adapter.wrap())
    for start in (0, 10, 20):
        _feed(channel, start, start + 10)
    first = channel.end_epoch()
    for start in (0, 10):  # what Keras 3 re-chains after the generator ran dry
        _feed(channel, start, start + 10)
    second = channel.end_epoch()
    assert (first["replayed_ranges"], first["new_samples"]) == ([], 30)
    assert second["replayed_ranges"] == second["seen_ranges"] == [[0, 19]]
    assert second["new_samples"] == 0


def test_a_cycling_source_repeats_but_does_not_replay():
    def forever():
        while True:
            for start in range(0, 30, 10):
                yield DATA[start : start + 10], np.zeros(10)

    channel, adapter = _channel(forever())
    stream = adapter.wrap()
    for _ in range(7):
        batch = next(stream)
        channel.on_element(list(batch), 1)
    elements = channel.take()
    assert [e.repeated for e in elements] == [False] * 3 + [True] * 4
    assert not any(e.replayed for e in elements)
    assert channel.cycle_length() == 3
    stats = channel.end_epoch()
    assert stats == {
        "samples_seen": 30,
        "new_samples": 30,
        "seen_ranges": [[0, 29]],
        "replayed_ranges": [],
    }
    assert channel.coverage_summary()["data_array"] == "DATA"


def test_nan_rows_and_signatures_are_recorded():
    channel, _ = _channel(DATA)
    bad = DATA[:4].copy()
    bad[1, 1] = np.nan
    channel.on_element([bad, np.zeros(4)], 1)
    channel.on_element([DATA[4:7], np.zeros(5)], 1)
    first, second = channel.take()
    assert first.nonfinite and not second.nonfinite
    assert (second.rows, second.y_rows) == (3, 5)
    assert list(channel.signatures) == ["float32[4, 2] | float64[4]", "float32[3, 2] | float64[5]"]
