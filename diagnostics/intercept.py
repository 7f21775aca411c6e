"""Inside the probe worker: intercept `Model.fit`, observe, apply the caps.

Who is responsible for what (all of it runs in the worker process):
- `Recorder.observe_fit` wraps one `fit()` (or Keras 2 `fit_generator()`) call:
  it adapts the data arguments (see `adapters`), appends the observer
  callback, caps the epochs, calls the real `fit`, and emits `fit-start` /
  `fit-end` events.
- `Channel` receives every batch the training loop actually *pulled* (the
  dataset tap in `keras_hooks` calls `on_element`): rows, shapes, NaN/Inf,
  row fingerprints, replays.
- the observer callback (`make_observer`) counts *trained* batches per epoch
  with `on_train_batch_end` and validation batches with `on_test_batch_end`,
  times data waits against steps, emits `batch` and `epoch-end` events, and
  enforces the per-epoch step caps.
The probe never decides what is wrong: it only records.
"""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .adapters import SourceAdapter, adapt
from .fingerprint import batch_hash, leading_dim, ranges, row_hashes, source_row_hashes
from .numbers import clean_number, positive_integral
from .rules.base import RAN_OUT_OF_DATA
from .userframes import UserFiles, describe_exception

SETTLE_S = 30.0  # the longest the observer waits for batches to be described
# How often the consumer reads the described batches while training runs: as often as
# the worker sends its events on (EventStream.FLUSH_EVERY_S, the same 0.25 s). A live
# batch event reaches the parent at most ~0.5 s after its step; looking 5x as often
# (0.05 s) cut that to ~0.3 s but woke this thread, and took the GIL, between steps.
POLL_S = 0.25
MAX_COVERAGE_ROWS = 5_000_000  # per-epoch unique rows kept for coverage ranges
MAX_WARNING_CHARS = 2000
MAX_WARNING_EVENTS = 50  # per distinct warning; further repeats are only counted


class ProbeCapReached(Exception):
    """Raised from the observer to end a fit that hit a probe cap mid-validation."""


@dataclass(frozen=True)
class Caps:
    epochs: int = 5
    max_steps: int = 2000
    max_val_steps: int = 2000
    max_fit_calls: int = 20


def _nonfinite(array: np.ndarray) -> bool:
    if not np.issubdtype(array.dtype, np.floating) or array.size == 0:
        return False
    with np.errstate(all="ignore"):
        if math.isfinite(float(array.sum(dtype=np.float64))):
            return False
    return not bool(np.isfinite(array).all())


class Element:
    __slots__ = (
        "t",  # when a training step pulled it (epoch seconds)
        "rows",
        "y_rows",
        "sig",
        "nonfinite",
        "hash",
        "hashes",
        "repeated",
        "replayed",
    )


class Channel:
    """Everything one role (train or validation) of one fit call pulled from Keras's dataset."""

    def __init__(self, role: str, source: SourceAdapter | None, emit):
        self.role = role
        self.source = source
        self.emit = emit
        self._lock = threading.Lock()
        self._pending: list[Element] = []
        self.pulled = 0
        self.signatures: dict[str, int] = {}
        self.batch_seen: set[str] = set()
        self._first_hash: str | None = None  # of the first batch pulled
        self._cycle: int | None = None  # batches until it came round again
        self._hashed = 0  # batches fingerprinted
        self.hashing_complete = True
        self.x_row_shape: tuple | None = None
        self.epoch_hashes: list[np.ndarray] = []
        self.epoch_replayed: list[np.ndarray] = []  # rows of batches Keras replayed
        self.seen = np.empty(0, dtype=np.uint64)
        self.epoch_unique: list[np.ndarray] = []
        self._kept_rows = 0
        self._index = None  # (the chosen candidate's row hashes, its name)
        self._candidates = None  # [(name, row hashes)] of the source's arrays that fit
        self.tap_errors = 0
        self._queues: list = []  # the tapped datasets' queues
        self._pulled_var = None  # their count of batches let through (a tf.Variable)
        self._described = 0  # batches described by the consumer thread
        self._settled = threading.Condition()
        self._wake = threading.Event()  # wakes the consumer before its next look
        self._closing = False
        self._layouts: dict[tuple, tuple] = {}  # shapes -> (signature, rows, y rows)
        self.on_described = None  # called after each batch is described (from that thread)
        self.last_pulled_at = 0.0  # when the last batch described was pulled (epoch s)

    # the dataset tap (keras_hooks) ----------------------------------------------
    def attach(
        self, queue, pulled, *, dtypes: list[str], n_x: int, hashed: bool, x_row_shape=None
    ) -> None:
        """A tapped dataset queues the description of each batch it lets through (and
        counts them in the variable `pulled`); a thread of this channel reads them.
        `x_row_shape`: the rows' shape of a single x leaf, when the pipeline fixes it."""
        self._pulled_var = pulled
        if x_row_shape is not None and self.x_row_shape is None:
            self.x_row_shape = tuple(x_row_shape)
        thread = threading.Thread(
            target=self._consume,
            args=(queue, dtypes, n_x, hashed),
            name=f"fitprobe-{self.role}",
            daemon=True,
        )
        self._queues.append(queue)
        thread.start()

    def _consume(self, queue, dtypes, n_x, hashed) -> None:
        """Read the queued descriptions in groups: whatever has come since the last look,
        in one dequeue, then a short sleep (cut short by `settle`)."""
        import tensorflow as tf

        if self.x_row_shape is not None:
            # Known before the first batch: hash the source's arrays now, while the fit
            # is still starting (one core makes the iterator), not beside training.
            self._find_candidates()
        while True:
            closing = self._closing  # read before the look: what came before it is in
            try:
                waiting = int(queue.size())
                if waiting:  # [time pulled] + its description, a row each
                    times, descriptions = (t.numpy() for t in queue.dequeue_many(waiting))
                    block = np.column_stack((times, descriptions))
            except (tf.errors.OutOfRangeError, tf.errors.CancelledError):
                return
            except Exception as exc:  # observing must never change training
                self._failed(exc)
                return
            if waiting:
                self._read(block, dtypes, n_x, hashed)
            elif closing:
                return  # the fit() call is over and everything is read
            self._wake.wait(POLL_S)  # let a group gather
            self._wake.clear()

    def _read(self, block, dtypes, n_x, hashed) -> None:
        """One group of queued records: each is [time pulled] + its description."""
        for record in block:
            try:
                self.on_payload(record, dtypes, n_x, hashed)
            except Exception as exc:
                self._failed(exc)
        self._find_candidates()  # after the first batch at the latest: off the training thread
        with self._settled:
            self._described += len(block)
            self._settled.notify_all()
        if self.on_described is not None:
            self.on_described()

    def _find_candidates(self) -> None:
        """Hash the source's arrays for coverage, once."""
        try:
            if self._candidates is None:
                self._candidates = self._hash_candidates()
        except Exception as exc:
            self._failed(exc)

    def _let_through(self) -> int | None:
        """How many batches the tap has let through, or None (no tap, or its variable
        is gone with a failed pipeline)."""
        if self._pulled_var is None:
            return None
        try:
            return int(self._pulled_var.numpy())
        except Exception:
            return None

    def settle(self, timeout: float = SETTLE_S) -> None:
        """Wait until every batch the tap let through so far has been described."""
        wanted = self._let_through()
        if wanted is None:
            return
        self._wake.set()
        with self._settled:
            self._settled.wait_for(lambda: self._described >= wanted, timeout=timeout)

    def is_settled(self) -> bool:
        """Whether every batch let through so far has been described."""
        wanted = self._let_through()
        return wanted is None or wanted <= self._described

    def close(self) -> None:
        """End the consumer threads (at the end of the fit() call, once settled)."""
        self._closing = True
        self._wake.set()
        for queue in self._queues:
            try:
                queue.close(cancel_pending_enqueues=True)
            except Exception:
                pass

    def on_payload(self, vector: np.ndarray, dtypes: list[str], n_x: int, hashed: bool) -> None:
        """One batch as the tap described it: [arrival time (epoch seconds), a value that
        is finite unless a float leaf holds a NaN or an Inf, then per leaf its rank and
        dims, then (if hashed) the x rows' fingerprints, then (in a group read at once)
        zeros up to the longest of the group]."""
        shapes, at = [], 2
        for _ in dtypes:
            rank = int(vector[at])
            shapes.append(tuple(int(d) for d in vector[at + 1 : at + 1 + rank]))
            at += 1 + rank
        key = tuple(shapes)
        layout = self._layouts.get(key)
        if layout is None:
            xs, ys = shapes[:n_x], shapes[n_x:]
            sig = " | ".join(f"{d}{list(shape)}" for d, shape in zip(dtypes, shapes, strict=True))
            layout = self._layouts[key] = (
                self.signatures.setdefault(sig, len(self.signatures)),
                xs[0][0] if xs and xs[0] else None,
                ys[0][0] if ys and ys[0] else None,
            )
            if self.x_row_shape is None and xs:
                self.x_row_shape = xs[0][1:] if len(xs) == 1 else None
        e = Element()
        e.t = float(vector[0])
        e.nonfinite = not math.isfinite(vector[1])
        e.sig, e.rows, e.y_rows = layout
        e.hashes = (
            np.ascontiguousarray(vector[at : at + (e.rows or 0)]).view(np.uint64)
            if hashed
            else None
        )
        self._add(e)

    def on_element(self, tensors, n_x: int):
        """One batch as arrays (the tap's description, done in numpy; for tests)."""
        try:
            self._record(tensors, n_x)
        except Exception as exc:  # observing must never change training
            self._failed(exc)
        return np.int64(0)

    def _failed(self, exc: Exception) -> None:
        self.tap_errors += 1
        if self.tap_errors == 1:
            self.emit("probe-note", message=f"batch observation failed: {exc!r}")

    def _record(self, tensors, n_x: int):
        arrays = [t.numpy() if hasattr(t, "numpy") else np.asarray(t) for t in tensors]
        xs, ys = arrays[:n_x], arrays[n_x:]
        e = Element()
        e.t = time.time()
        e.rows = leading_dim(xs[0]) if xs else None
        e.y_rows = leading_dim(ys[0]) if ys else None
        sig = " | ".join(f"{a.dtype}{list(a.shape)}" for a in arrays)
        e.sig = self.signatures.setdefault(sig, len(self.signatures))
        e.nonfinite = any(_nonfinite(a) for a in arrays)
        e.hashes = row_hashes(xs) if xs else None
        if self.x_row_shape is None and xs:
            self.x_row_shape = tuple(xs[0].shape[1:]) if len(xs) == 1 else None
        self._add(e)

    def _add(self, e: Element) -> None:
        with self._lock:
            self.last_pulled_at = max(self.last_pulled_at, e.t)
            self.pulled += 1
            if e.hashes is None:
                self.hashing_complete = False
                e.hash, e.repeated, e.replayed = None, False, False
            else:
                e.hash = batch_hash(e.hashes)
                e.repeated = e.hash in self.batch_seen
                src = self.source
                # Replayed: trained again after the source ran dry, without the
                # source producing it again (Keras 3 re-chains its peeked batches).
                e.replayed = bool(
                    e.repeated
                    and src is not None
                    and src.counts_production
                    and src.exhausted
                    and self.pulled > src.produced
                )
                self.batch_seen.add(e.hash)
                if self._first_hash is None:
                    self._first_hash = e.hash
                elif self._cycle is None and e.hash == self._first_hash and not e.replayed:
                    self._cycle = self._hashed
                self._hashed += 1
            self._pending.append(e)

    # called from callbacks, on the training thread ----------------------------
    def take(self, until: float | None = None) -> list[Element]:
        """The batches recorded and not taken yet; with `until` (epoch seconds), those
        pulled by then."""
        with self._lock:
            if until is None:
                items, self._pending = self._pending, []
            else:
                cut = next((i for i, e in enumerate(self._pending) if e.t > until), None)
                cut = len(self._pending) if cut is None else cut
                items, self._pending = self._pending[:cut], self._pending[cut:]
        for e in items:
            if e.hashes is not None:
                self.epoch_hashes.append(e.hashes)
                if e.replayed:
                    self.epoch_replayed.append(e.hashes)
        return items

    def end_epoch(self) -> dict:
        """Samples seen in the epoch just ended, and how many were new."""
        self.take()
        hashes, replayed = self.epoch_hashes, self.epoch_replayed
        self.epoch_hashes, self.epoch_replayed = [], []
        if not self.hashing_complete:
            return {
                "samples_seen": None,
                "new_samples": None,
                "seen_ranges": None,
                "replayed_ranges": None,
            }
        unique = np.unique(np.concatenate(hashes)) if hashes else np.empty(0, np.uint64)
        new = np.setdiff1d(unique, self.seen, assume_unique=True)
        self.seen = np.union1d(self.seen, unique)
        if self._kept_rows + unique.size <= MAX_COVERAGE_ROWS:
            self.epoch_unique.append(unique)
            self._kept_rows += unique.size
        out = {
            "samples_seen": int(unique.size),
            "new_samples": int(new.size),
            "seen_ranges": None,
            "replayed_ranges": None,
        }
        index = self._coverage_index()
        if index is not None:
            out["seen_ranges"] = ranges(self._indices(unique, index))
            if replayed:
                out["replayed_ranges"] = ranges(self._indices(np.concatenate(replayed), index))
            else:
                out["replayed_ranges"] = []
        return out

    def _hash_candidates(self) -> list[tuple[str, np.ndarray]]:
        """Row hashes of the source's arrays whose rows have the trained rows' shape."""
        found = []
        if self.source is None or self.x_row_shape is None:
            return found
        for name, array in self.source.candidates():
            if tuple(array.shape[1:]) == self.x_row_shape:
                hashes = source_row_hashes(array)
                if hashes is not None:
                    found.append((name, hashes))
        return found

    def _coverage_index(self):
        """Map row fingerprints back to row numbers of the array the source holds."""
        if self._index is not None:
            return self._index or None
        if self.source is None or self.x_row_shape is None or self.seen.size == 0:
            self._index = ()
            return None
        if self._candidates is None:  # no batch came through the tap's thread
            self._candidates = self._hash_candidates()
        best = None
        for name, hashes in self._candidates:
            overlap = np.intersect1d(hashes, self.seen).size
            if overlap and (best is None or overlap > best[0]):
                best = (overlap, hashes, name)
        self._index = () if best is None else (best[1], best[2])
        return self._index or None

    @staticmethod
    def _indices(unique: np.ndarray, index) -> np.ndarray:
        """Row numbers whose content was trained (every copy of a duplicated row)."""
        hashes, _ = index
        return np.nonzero(np.isin(hashes, unique))[0]

    def cycle_length(self) -> int | None:
        """Batches until the first batch comes round again (not counting replays)."""
        return self._cycle

    def coverage_summary(self) -> dict:
        out = {
            "samples_seen_total": int(self.seen.size) if self.hashing_complete else None,
            "data_rows": None,
            "data_array": None,
            "never_seen_rows": None,
            "never_seen_ranges": None,
        }
        index = self._coverage_index()
        if index is not None:
            hashes, name = index
            n = int(hashes.size)
            seen_idx = self._indices(self.seen, index)
            missing = np.setdiff1d(np.arange(n), seen_idx)
            out.update(
                data_rows=n,
                data_array=name,
                never_seen_rows=int(missing.size),
                never_seen_ranges=ranges(missing),
            )
        return out


class CallState:
    """One observed fit() call."""

    def __init__(self, index, api, recorder):
        self.index = index
        self.api = api
        self.recorder = recorder
        self.train: Channel | None = None
        self.val: Channel | None = None
        self._train_assigned = False
        self.adapters: list[SourceAdapter] = []
        self.epoch: int | None = None
        self.observed = 0
        self.steps = 0
        self.val_batches = 0
        self.val_rows = 0
        self.in_validation = False
        self.batch_begin = None
        self.epoch_start = None
        self.data_wait = 0.0
        self.step_time = 0.0
        self.epochs_completed = 0
        self.cap_hit: str | None = None
        self.stopper: str | None = None
        self.stopped_in_epoch: int | None = None
        self.ran_out = False
        self.call_site: dict | None = None
        self.known_length: int | None = None  # batches per epoch, when known up front
        self.known_val_length: int | None = None
        # Trained batches waiting for their description: (epoch, step, keras batch,
        # began, ended), times in epoch seconds as the tap stamps its batches; `match`
        # pairs them with what the tap saw.
        self.ended: list[tuple] = []
        self._matching = threading.Lock()
        self._ticker: threading.Event | None = None

    def match(self, final: bool | None = None) -> None:
        """Report every trained batch whose description is in: the tap's batches pulled
        after the previous step ended and before this one did are its batches (the
        next step pulls only after this step's callbacks ran: Keras calls the observer
        synchronously). `final` (or a settled channel): all of them; else only steps
        known complete, by a later batch described."""
        train = self.train
        with self._matching:
            if final is None:
                final = train is None or train.is_settled()
            while self.ended:
                epoch, step, keras_batch, began, ended = self.ended[0]
                if not final and (train is None or train.last_pulled_at <= ended):
                    return  # its batches may still be being described
                self.ended.pop(0)
                elements = train.take(until=ended) if train is not None else []
                self._report(epoch, step, keras_batch, began, ended, elements)

    def _report(self, epoch, step, keras_batch, began, ended, elements) -> None:
        self.steps += max(len(elements), 1)
        wait = spent = None
        if elements and began is not None:
            wait = max(elements[-1].t - began, 0.0)
            spent = max(ended - elements[-1].t, 0.0)
            self.data_wait += wait
            self.step_time += spent
        hashes = [e.hash for e in elements if e.hash]
        self.recorder.emit(
            "batch",
            call=self.index,
            epoch=epoch,
            step=step,
            keras_batch=keras_batch,
            pulled=len(elements),
            rows=sum(e.rows or 0 for e in elements) if elements else None,
            y_rows=sum(e.y_rows or 0 for e in elements) if elements else None,
            sig=elements[0].sig if elements else None,
            nonfinite=any(e.nonfinite for e in elements),
            hash=hashes[0] if len(hashes) == 1 else (hashes or None),
            repeated=bool(elements) and all(e.repeated for e in elements),
            replayed=bool(elements) and all(e.replayed for e in elements),
            wait_ms=None if wait is None else round(wait * 1e3, 3),
            step_ms=None if spent is None else round(spent * 1e3, 3),
        )

    def start_ticking(self, every: float = 0.2) -> None:
        """Report trained batches now and then even when no new batch comes (a hang)."""
        stop = self._ticker = threading.Event()

        def tick():
            while not stop.wait(every):
                try:
                    self.match()
                except Exception:  # observing must never change training
                    pass

        threading.Thread(target=tick, name="fitprobe-match", daemon=True).start()

    def stop_ticking(self) -> None:
        if self._ticker is not None:
            self._ticker.set()

    def next_channel(self) -> Channel:
        # The first dataset Keras builds in a fit call is the training data; any
        # later one (Keras 3 caches it, Keras 2 may rebuild it) is validation.
        if not self._train_assigned:
            self._train_assigned = True
            return self.train
        return self.val


def make_observer(callback_base, recorder: Recorder, state: CallState):
    """An instance of a Callback subclass of this stack's `keras.callbacks.Callback`."""
    emit = recorder.emit
    caps = recorder.caps

    class FitprobeObserver(callback_base):
        def __init__(self):
            super().__init__()
            self._supports_tf_logs = True  # Keras 2: don't force logs to numpy per batch

        def on_epoch_begin(self, epoch, logs=None):
            state.epoch = int(epoch)
            state.observed = state.steps = state.val_batches = state.val_rows = 0
            state.data_wait = state.step_time = 0.0
            state.epoch_start = time.perf_counter()
            emit("epoch-begin", call=state.index, epoch=state.epoch)

        def on_train_batch_begin(self, batch, logs=None):
            state.batch_begin = time.time()  # the tap stamps arrivals in epoch seconds

        def on_train_batch_end(self, batch, logs=None):
            # Only the time, here: describing and reporting the batch happens on the
            # channel's thread (`CallState.match`), off the training thread.
            state.observed += 1
            state.ended.append(
                (state.epoch, state.observed - 1, int(batch), state.batch_begin, time.time())
            )
            # An epoch known to end at the cap is left to end by itself.
            longer = state.known_length is None or state.known_length > caps.max_steps
            if state.observed >= caps.max_steps and longer and not self.model.stop_training:
                state.cap_hit = state.cap_hit or f"max-steps={caps.max_steps}"
                self.model.stop_training = True

        def on_test_begin(self, logs=None):
            state.in_validation = state.epoch is not None

        def on_test_batch_end(self, batch, logs=None):
            if not state.in_validation:
                return
            state.val_batches += 1
            longer = state.known_val_length is None or state.known_val_length > caps.max_val_steps
            if state.val_batches >= caps.max_val_steps and longer:
                state.cap_hit = f"max-validation-steps={caps.max_val_steps}"
                raise ProbeCapReached()

        def on_test_end(self, logs=None):
            state.in_validation = False

        def on_epoch_end(self, epoch, logs=None):
            state.epochs_completed += 1
            state.train.settle()
            state.match(final=True)
            coverage = state.train.end_epoch()
            if state.val:
                state.val.settle()
                state.val_rows = sum(e.rows or 0 for e in state.val.take())
                state.val.end_epoch()
            logs = dict(logs or {})
            emit(
                "epoch-end",
                call=state.index,
                epoch=int(epoch),
                observed_batches=state.observed,
                steps=state.steps,
                val_batches=state.val_batches,
                val_rows=state.val_rows,
                loss=clean_number(logs.get("loss")),
                val_loss=clean_number(logs.get("val_loss")),
                logs={k: clean_number(v) for k, v in logs.items()},
                wall_s=round(time.perf_counter() - (state.epoch_start or time.perf_counter()), 4),
                data_wait_s=round(state.data_wait, 4),
                step_s=round(state.step_time, 4),
                capped=state.cap_hit is not None,
                **coverage,
            )
            state.epoch = None

    return FitprobeObserver()


_STOP_WATCHED = ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end")
_MISSING = object()


def _watch_stops(callbacks, state: CallState) -> list:
    """Wrap the user's callbacks so the one that sets `stop_training` is named.

    Returns what `_unwatch` needs to put every instance back exactly as it was
    (LambdaCallback, for one, keeps its hooks as instance attributes).
    """
    undo = []
    for cb in callbacks:
        for name in _STOP_WATCHED:
            method = getattr(cb, name, None)
            if method is None:
                continue

            def watched(*args, _method=method, _cb=cb, **kwargs):
                model = getattr(_cb, "model", None)
                before = bool(getattr(model, "stop_training", False))
                result = _method(*args, **kwargs)
                if not before and getattr(model, "stop_training", False) and not state.stopper:
                    state.stopper = type(_cb).__name__
                    state.stopped_in_epoch = state.epoch
                return result

            previous = getattr(cb, "__dict__", {}).get(name, _MISSING)
            try:
                setattr(cb, name, watched)
            except (AttributeError, TypeError):
                continue
            undo.append((cb, name, previous))
    return undo


def _unwatch(undo: list) -> None:
    for cb, name, previous in reversed(undo):
        try:
            if previous is _MISSING:
                delattr(cb, name)
            else:
                setattr(cb, name, previous)
        except (AttributeError, TypeError):
            pass


def _flatten_callbacks(callbacks) -> list:
    """Keras flattens `callbacks` (a list, nested lists, or a single Callback) the same way."""
    if isinstance(callbacks, list | tuple):
        return [cb for item in callbacks for cb in _flatten_callbacks(item)]
    return [] if callbacks is None else [callbacks]


def _call_site(user_files: UserFiles) -> dict | None:
    """The user's line that called fit(), innermost first."""
    for frame in reversed(traceback.extract_stack()):
        if user_files.is_user(frame.filename):
            return {
                "file": user_files.display(frame.filename),
                "line": frame.lineno,
                "code": (frame.line or "").strip() or None,
                "function": frame.name,
            }
    return None


class FitCallCapReached(BaseException):
    """Ends the user's script once the probe has observed enough fit() calls.

    A BaseException, so the user's `except Exception` does not swallow it.
    """


class Recorder:
    """Per worker: observes every fit() call the user's code makes."""

    def __init__(self, emit, stack: str, keras, caps: Caps, user_files: UserFiles):
        self.emit = emit
        self.stack = stack
        self.keras = keras
        self.caps = caps
        self.user_files = user_files
        self.active: CallState | None = None
        self.calls = 0
        self.fit_exceptions: set[int] = set()
        self.warning_counts: Counter = Counter()

    # hooks used by keras_hooks ------------------------------------------------
    def next_channel(self) -> Channel | None:
        return self.active.next_channel() if self.active is not None else None

    def on_warning(self, message, category, filename, lineno, origin):
        state = self.active
        text = str(message)[:MAX_WARNING_CHARS]
        if state is not None and RAN_OUT_OF_DATA in text:
            state.ran_out = True
        key = (text, category, filename, lineno)
        self.warning_counts[key] += 1
        if self.warning_counts[key] > MAX_WARNING_EVENTS:
            return  # counted; the total is sent once, at the end (see `warning_totals`)
        shown = self.user_files.display(filename) if filename else None
        self.emit(
            "warning",
            message=text,
            category=category,
            origin=origin,
            file=shown or (filename.rsplit("/", 1)[-1] if filename else None),
            line=lineno,
            call=state.index if state else None,
            epoch=state.epoch if state else None,
            phase=("validation" if state.in_validation else "train") if state else None,
        )

    def warning_totals(self) -> list[dict]:
        """Warnings repeated more often than they were sent as events, with their totals."""
        return [
            {"message": text, "category": category, "line": line, "count": n}
            for (text, category, _, line), n in self.warning_counts.items()
            if n > MAX_WARNING_EVENTS
        ]

    # the fit wrapper ------------------------------------------------------------
    def observe_fit(self, original, model, args, kwargs, api: str):
        if self.calls >= self.caps.max_fit_calls:
            self.emit("fit-call-cap", calls=self.calls, cap=self.caps.max_fit_calls)
            raise FitCallCapReached()
        state = CallState(self.calls, api, self)
        state.call_site = _call_site(self.user_files)
        self.calls += 1
        try:
            bound = inspect.signature(original).bind(model, *args, **kwargs)
        except TypeError:
            bound = None
        if bound is None:  # Keras itself will reject these arguments: let it say how
            self.emit(
                "fit-start",
                call=state.index,
                api=api,
                fit={},
                arguments_bound=False,
                call_site=state.call_site,
            )
            try:
                result = original(model, *args, **kwargs)
            except BaseException as exc:
                self._finish(state, model, exc, {})
                raise
            self._finish(state, model, None, {})
            return result

        explicit = [name for name in bound.arguments if name != "self"]
        bound.apply_defaults()
        a = bound.arguments
        data_key = "x" if "x" in a else "generator"
        batch_size = a.get("batch_size")
        multiprocess = bool(a.get("use_multiprocessing")) and (a.get("workers") or 1) > 1
        train = adapt(
            a.get(data_key),
            role="train",
            user_files=self.user_files,
            batch_size=batch_size,
            validation_split=a.get("validation_split") or 0.0,
        )
        if train is not None:
            if multiprocess:  # produced in forked workers: not countable from here
                train.counts_production = False
            a[data_key] = train.wrap()
            state.adapters.append(train)
        state.train = Channel("train", train, self.emit)
        # Report trained batches as they are described (without asking TensorFlow whether
        # all are in: the ticker does that, for a step whose next batch never comes).
        state.train.on_described = lambda: state.match(final=False)
        state.start_ticking()

        val = None
        validation_data = a.get("validation_data")
        if validation_data is not None:
            if isinstance(validation_data, tuple | list) and 1 <= len(validation_data) <= 3:
                val = adapt(
                    validation_data[0],
                    role="validation",
                    user_files=self.user_files,
                    batch_size=a.get("validation_batch_size") or batch_size,
                )
            elif train is not None and validation_data is train.source:
                # The same object trains and validates: it is observed once, as the
                # training source (its production counts include validation batches).
                a["validation_data"] = a[data_key]
                train.shared_with_validation = True
            else:
                val = adapt(validation_data, role="validation", user_files=self.user_files)
                if multiprocess:
                    val.counts_production = False
                a["validation_data"] = val.wrap()
                state.adapters.append(val)
        if validation_data is not None or (a.get("validation_split") or 0) > 0:
            state.val = Channel("validation", val, self.emit)

        requested = a.get("epochs", 1)
        initial = a.get("initial_epoch") or 0
        capped = requested
        if isinstance(requested, int | np.integer) and not isinstance(requested, bool):
            capped = min(int(requested), int(initial) + self.caps.epochs)
            a["epochs"] = capped

        observer = make_observer(self.keras.callbacks.Callback, self, state)
        user_callbacks = a.get("callbacks")
        undo, appended_to = [], None
        if (
            user_callbacks is not None
            and hasattr(user_callbacks, "append")
            and not isinstance(user_callbacks, list)
        ):  # a CallbackList: Keras uses it as it is, so the observer joins it for this call
            undo = _watch_stops(getattr(user_callbacks, "callbacks", []), state)
            user_callbacks.append(observer)
            appended_to = user_callbacks
        else:
            user_list = _flatten_callbacks(user_callbacks)
            undo = _watch_stops(user_list, state)
            a["callbacks"] = [*user_list, observer]

        spe = _steps_per_execution(model)
        state.known_length = positive_integral(a.get("steps_per_epoch")) or (
            train.pass_length if train is not None and not train.infinite else None
        )
        if val is not None:
            state.known_val_length = positive_integral(a.get("validation_steps")) or val.pass_length
        fit_args = {
            "epochs": requested,
            "epochs_run": capped,
            "initial_epoch": initial,
            "steps_per_epoch": a.get("steps_per_epoch"),
            "validation_steps": a.get("validation_steps"),
            "batch_size": batch_size,
            "validation": None if validation_data is None else (val.kind if val else "same-as-x"),
            "validation_split": a.get("validation_split"),
            "validation_freq": a.get("validation_freq"),
            "shuffle": a.get("shuffle"),
            "steps_per_execution": spe,
            "workers": a.get("workers"),
            "use_multiprocessing": a.get("use_multiprocessing"),
        }
        self.emit(
            "fit-start",
            call=state.index,
            api=api,
            fit={k: _jsonable(v) for k, v in fit_args.items()},
            source=train.summary() if train else None,
            validation_source=val.summary() if val else None,
            arguments_bound=True,
            call_site=state.call_site,
            explicit=explicit,
        )

        self.active = state
        outcome = None
        try:
            result = original(*bound.args, **bound.kwargs)
        except ProbeCapReached:
            result = getattr(model, "history", None)
        except BaseException as exc:
            outcome = exc
            raise
        finally:
            self.active = None
            _unwatch(undo)
            if appended_to is not None:
                try:
                    appended_to.callbacks.remove(observer)
                except (AttributeError, ValueError):
                    pass
            for adapter in reversed(state.adapters):
                adapter.restore()
            self._finish(state, model, outcome, fit_args)
        return result

    def _finish(self, state: CallState, model, exc: BaseException | None, fit_args: dict):
        # Batches pulled but never finished as a trained step (the step that crashed on
        # them, or read-ahead at the end): kept, since the crash is often about them.
        state.stop_ticking()
        for channel in (state.train, state.val):
            if channel is not None:
                channel.settle()
        state.match(final=True)
        unfinished = state.train.take() if state.train is not None else []
        for channel in (state.train, state.val):
            if channel is not None:
                channel.close()
        exception = root = None
        if exc is not None:
            self.fit_exceptions.add(id(exc))
            exception = describe_exception(exc, self.user_files)
            root = next((a.error for a in state.adapters if a.error), None)
            if root and root.get("type") != exception["type"]:
                exception["root_cause"] = root
                if exception.get("file") is None:
                    exception.update({k: root[k] for k in ("file", "line", "code")})
            if exception.get("file") is None and state.call_site:
                # Raised inside Keras, before any user frame: point at the fit() call.
                exception.update(state.call_site)
        wanted = (fit_args.get("epochs_run") or 0) - (fit_args.get("initial_epoch") or 0)
        if exc is not None:
            stopped_by = "exception"
        elif state.cap_hit:
            stopped_by = "probe-cap"
        elif state.stopper:
            stopped_by = "callback"
        elif state.epochs_completed < wanted:
            ran_dry = state.ran_out or any(a.exhausted for a in state.adapters)
            if not ran_dry and getattr(model, "stop_training", False):
                stopped_by = "callback"  # set in a hook the probe does not watch
            else:
                stopped_by = "data-exhausted"
        elif fit_args.get("epochs_run") != fit_args.get("epochs"):
            stopped_by = "probe-cap"
        else:
            stopped_by = "completed"
        train = state.train
        self.emit(
            "fit-end",
            call=state.index,
            stopped_by=stopped_by,
            epochs_completed=state.epochs_completed,
            exception=exception,
            cap=state.cap_hit,
            stopped_by_callback=state.stopper,
            stopped_in_epoch=state.stopped_in_epoch,
            partial_epoch=(
                {
                    "epoch": state.epoch,
                    "observed_batches": state.observed,
                    "val_batches": state.val_batches,
                }
                if state.epoch is not None
                else None
            ),
            source=(
                state.adapters[0].summary()
                if state.adapters and state.adapters[0].role == "train"
                else None
            ),
            validation_source=next(
                (a.summary() for a in state.adapters if a.role == "validation"), None
            ),
            pulled_batches=train.pulled if train else None,
            cycle_length=train.cycle_length() if train else None,
            signatures=list(train.signatures) if train else [],
            coverage=train.coverage_summary() if train else None,
            val_pulled_batches=state.val.pulled if state.val else None,
            tap_errors=(train.tap_errors if train else 0),
            unfinished_batches=[
                {
                    "rows": e.rows,
                    "y_rows": e.y_rows,
                    "sig": e.sig,
                    "nonfinite": e.nonfinite,
                    "hash": e.hash,
                }
                for e in unfinished[:10]
            ],
        )


def _steps_per_execution(model):
    value = getattr(model, "steps_per_execution", None)
    if value is None:
        value = getattr(model, "_steps_per_execution", None)
    try:
        return int(value.numpy()) if hasattr(value, "numpy") else (int(value) if value else None)
    except (TypeError, ValueError):
        return None


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return clean_number(value)
    return repr(value)[:200]


def install_warning_capture(recorder: Recorder) -> None:
    """Record Python warnings and TensorFlow's logger, still showing them as usual."""
    show = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        recorder.on_warning(message, category.__name__, filename, lineno, "python")
        show(message, category, filename, lineno, file, line)

    warnings.showwarning = showwarning
    # Keras repeats some warnings once per epoch, and the default filter would show
    # only the first. Only Keras's and TensorFlow's own warnings are made to repeat:
    # the user's code keeps the filters (and the output) it would have had.
    warnings.filterwarnings("always", module=r"(keras|tf_keras|tensorflow)(\.|$)")

    class Handler(logging.Handler):
        def emit(self, record):
            recorder.on_warning(
                record.getMessage(),
                f"log.{record.levelname}",
                record.pathname,
                record.lineno,
                "tensorflow-log",
            )

    handler = Handler(level=logging.WARNING)
    logging.getLogger("tensorflow").addHandler(handler)
