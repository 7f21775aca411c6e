"""Inside the worker: what one role (train or validation) of one fit() call pulled.

A `Channel` receives every batch the training loop actually *pulled* (the dataset tap
in `keras_hooks` queues a description of each in TensorFlow ops; a thread of the
channel reads them): rows, shapes, NaN/Inf, row fingerprints, replays, coverage of the
source's arrays. It only records.
"""

from __future__ import annotations

import math
import threading
import time

import numpy as np

from diagnostics.worker.adapters import SourceAdapter
from diagnostics.worker.fingerprint import (
    batch_hash,
    leading_dim,
    ranges,
    row_hashes,
    source_row_hashes,
)

SETTLE_S = 30.0  # the longest the observer waits for batches to be described
# How often the consumer reads the described batches while training runs: as often as
# the worker sends its events on (EventStream.FLUSH_EVERY_S, the same 0.25 s). A live
# batch event reaches the parent at most ~0.5 s after its step; looking 5x as often
# (0.05 s) cut that to ~0.3 s but woke this thread, and took the GIL, between steps.
POLL_S = 0.25
MAX_COVERAGE_ROWS = 5_000_000  # per-epoch unique rows kept for coverage ranges


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
