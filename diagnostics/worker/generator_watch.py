"""`tf.data.Dataset.from_generator`, watched: what its generator function hands back.

tf.data calls the function given to `from_generator` once per pass over the dataset
(every `.repeat()` round, every new iterator Keras makes). A function that returns a
generator *object* made once (`from_generator(lambda: gen)`) hands back the same,
already used-up object on the second call, so every pass after the first is empty.
Nothing in the batches tells that apart from a short data set; what the function
returns does. The watch wraps the public `from_generator` and records, per dataset, how
often the function was called and how often it returned an object it had returned
before, or one already finished.
"""

from __future__ import annotations

import functools
import inspect
import weakref

__all__ = ["GeneratorWatch"]

MAX_REMEMBERED = 64  # objects per dataset kept (weakly) to recognise a returned one


class _Source:
    """One from_generator() call of the user's code, and what its function returned."""

    def __init__(self, function, site: dict | None):
        self.function = getattr(function, "__name__", type(function).__name__)
        self.site = site or {}
        self.calls = 0
        self.reused = 0  # calls that returned an object returned before
        self.finished = 0  # calls that returned a generator that had already finished
        self.fit_calls: set[int] = set()
        self._returned: list = []

    def returned(self, obj, fit_call: int | None) -> None:
        self.calls += 1
        if fit_call is not None:
            self.fit_calls.add(fit_call)
        if any(ref() is obj for ref in self._returned):
            self.reused += 1
        elif len(self._returned) < MAX_REMEMBERED:
            try:
                self._returned.append(weakref.ref(obj))
            except TypeError:  # not weak-referenceable: a list, say; never "reused"
                pass
        if inspect.isgenerator(obj) and inspect.getgeneratorstate(obj) == "GEN_CLOSED":
            self.finished += 1

    def summary(self) -> dict:
        return {
            "function": self.function,
            "line": self.site.get("line"),
            "code": self.site.get("code"),
            "calls": self.calls,
            "reused": self.reused,
            "finished": self.finished,
        }


class GeneratorWatch:
    """Wraps `tf.data.Dataset.from_generator` (public) for one worker."""

    def __init__(self, recorder, call_site):
        self.recorder = recorder
        self.call_site = call_site  # () -> the user's frame ({line, code}) or None
        self.sources: list[_Source] = []

    def install(self):
        import tensorflow as tf

        dataset = tf.data.Dataset
        original = dataset.from_generator
        watch = self

        @functools.wraps(original)
        def from_generator(generator, *args, **kwargs):
            if callable(generator):
                generator = watch._wrap(generator)
            return original(generator, *args, **kwargs)

        dataset.from_generator = staticmethod(from_generator)
        return lambda: setattr(dataset, "from_generator", staticmethod(original))

    def _wrap(self, function):
        source = _Source(function, self.call_site())
        self.sources.append(source)
        recorder = self.recorder

        @functools.wraps(function)
        def watched(*args):
            obj = function(*args)
            active = recorder.active
            source.returned(obj, active.index if active is not None else None)
            return obj

        return watched

    def for_fit(self, index: int) -> list[dict]:
        """The from_generator datasets whose function tf.data called during fit() call
        `index`."""
        return [s.summary() for s in self.sources if index in s.fit_calls]
