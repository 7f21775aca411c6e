"""Static reading of user files: input errors and module data-source discovery (no TensorFlow)."""

from __future__ import annotations

import pytest

from diagnostics.engine.inputs import (
    InputError,
    calls_fit,
    imports_keras_directly,
    list_sources,
    read_user_file,
)

from .conftest import FIXTURES


def test_lists_every_kind_of_data_source_with_parameters():
    found = {s.name: s for s in list_sources(read_user_file(FIXTURES / "data_sources.py").tree)}
    assert {name: s.kind for name, s in found.items()} == {
        "endless_batches": "generator",
        "one_pass": "generator",
        "RowBatches": "sequence",
        "make_dataset": "dataset-function",
    }
    assert found["endless_batches"].params == [
        {"name": "batch_size", "default": "10"},
        {"name": "rows", "default": "60"},
    ]
    assert found["RowBatches"].params[0] == {"name": "batch_size", "default": "10"}
    assert found["endless_batches"].doc == "Cycles over the first `rows` rows forever."


def test_module_without_sources_lists_nothing():
    assert list_sources(read_user_file(FIXTURES / "no_sources.py").tree) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"   \n\n", "is empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00", "binary file"),
        (b"x = '\xff\xfe'\n", "not UTF-8"),
        (b"def f(:\n", "syntax error at line 1"),
    ],
)
def test_unreadable_inputs_get_one_clear_line(tmp_path, content, message):
    path = tmp_path / "bad.py"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_user_file(path)
    assert "\n" not in str(info.value)


def test_missing_file():
    with pytest.raises(InputError, match="No such file: nowhere.py"):
        read_user_file("nowhere.py")


def test_fit_calls_and_direct_keras_imports_are_found():
    tree = read_user_file(FIXTURES / "direct_keras_import.py").tree
    assert calls_fit(tree)
    assert imports_keras_directly(tree) == 3
    plain = read_user_file(FIXTURES / "no_fit.py").tree
    assert not calls_fit(plain)
    assert imports_keras_directly(plain) is None
