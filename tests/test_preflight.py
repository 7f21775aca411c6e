"""Static pre-flight: each rule's static check on a snippet that has the pattern, and
silence on healthy code; the facts are read once and the rules own the findings."""

from __future__ import annotations

import ast
import textwrap

import pytest

from diagnostics.diagnosis.facts import read_facts
from diagnostics.rules import run_static


def preflight(tree):
    facts = read_facts(tree).to_dict()
    return facts, run_static(facts)


def codes(source: str) -> list[tuple[str, int]]:
    _, found = preflight(ast.parse(textwrap.dedent(source)))
    assert all(f.static and "static check" in f.title for f in found)
    return sorted((f.code, f.line) for f in found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            """
            def batches(x):
                for i in range(0, len(x), 10):
                    yield x[i:i + 10], x[i:i + 10]
            model.fit(batches(x), steps_per_epoch=10, epochs=5)
            """,
            [("finite-generator-exhausted", 5)],
        ),
        (
            """
            def batches(x):
                while True:
                    try:
                        yield load(x)
                    except ValueError:
                        break
            """,
            [("generator-swallowed-error", 6)],
        ),
        (
            """
            class Rows(Sequence):
                def __len__(self):
                    return 5
            """,
            [("sequence-len-too-small", 3)],
        ),
        ("model.fit_generator(gen, steps_per_epoch=3)\n", [("fit-generator-removed", 1)]),
        (
            "model.fit(gen, steps_per_epoch=3, workers=4, use_multiprocessing=True)\n",
            [("unsupported-fit-argument", 1)],
        ),
        ("model.fit(gen, steps_per_epoch=len(x) / 32)\n", [("steps-per-epoch-not-integer", 1)]),
        (
            "model.fit(a, validation_data=v, validation_steps=len(v) // 32)\n",
            [("validation-steps-zero", 1)],
        ),
        ("ds = ds.repeat(0)\n", [("empty-epoch", 1)]),
        (
            """
            def batches():
                while True:
                    for i in range(0, len(x), 10):
                        yield x[i:i + 10], np.zeros(10)
            """,
            [("xy-length-mismatch", 5)],
        ),
    ],
)
def test_each_static_check(source, expected):
    assert codes(source) == expected


def test_healthy_code_has_no_static_finding():
    source = """
    import math

    class Rows(keras.utils.PyDataset):
        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)

    def batches(x, y, size):
        while True:
            for i in range(0, len(x), size):
                xb = x[i:i + size]
                yield xb, y[i:i + size]

    model.fit(batches(x, y, 10), steps_per_epoch=math.ceil(len(x) / 10), epochs=5,
              validation_data=ds, validation_steps=max(1, len(v) // 10 + 1))
    model.fit(Rows(), epochs=3)
    """
    assert codes(source) == []
