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
import threading
import time
import traceback
import warnings
from collections import Counter

import numpy as np

from diagnostics.schema import RAN_OUT_OF_DATA, clean_number, positive_integral
from diagnostics.worker.adapters import SourceAdapter, adapt
from diagnostics.worker.channel import Channel
from diagnostics.worker.userframes import UserFiles, describe_exception

MAX_WARNING_CHARS = 2000
MAX_WARNING_EVENTS = 50  # per distinct warning; further repeats are only counted


class ProbeCapReached(Exception):
    """Raised from the observer to end a fit that hit a probe cap mid-validation."""


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
        self.trained = 0  # trained batches over every epoch of the call
        self.keras_before: dict = {}  # Keras's own tallies as the call began (`keras_tallies`)
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
            state.trained += 1
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


def _keras_own(obj) -> bool:
    return (getattr(obj, "__module__", "") or "").startswith(("keras.", "tf_keras."))


def keras_tallies(model) -> dict:
    """What Keras itself counts, apart from fitprobe's observer: the optimizer's step
    counter, and the History object `fit()` fills in. The counter is read only where it
    moves once a trained batch: Keras's own train_step, weights to train, no gradient
    accumulation, no loss scaling (Keras 3's skips the step on overflow)."""
    history = getattr(model, "history", None)
    tallies = {"history": history if _keras_own(type(history)) else None, "optimizer_steps": None}
    optimizer = getattr(model, "optimizer", None)
    if not _keras_own(type(model).train_step) or optimizer is None:
        return tallies
    if (getattr(optimizer, "gradient_accumulation_steps", None) or 1) != 1:
        return tallies
    if hasattr(optimizer, "inner_optimizer") or not getattr(model, "trainable_weights", None):
        return tallies
    try:
        tallies["optimizer_steps"] = int(np.asarray(optimizer.iterations))
    except Exception:  # an optimizer without a step counter: nothing to compare
        pass
    return tallies


def keras_counts(state: CallState, model, exc) -> dict:
    """Keras's own counts for this call, to check the observer's against: optimizer steps
    (where each trained batch is one: Keras's train_step, one batch per callback call),
    and the epochs of the History it returned (when fit() returned)."""
    before, after = state.keras_before, keras_tallies(model)
    steps = None
    if before.get("optimizer_steps") is not None and after["optimizer_steps"] is not None:
        spe = (before.get("steps_per_execution"), state.recorder.steps_per_execution(model))
        if spe == (1, 1):  # before and after: Keras 2's "auto" may change it mid-call
            steps = after["optimizer_steps"] - before["optimizer_steps"]
    history = after["history"]
    epochs = None
    if exc is None and history is not None and history is not before.get("history"):
        try:
            epochs = len(history.epoch)
        except Exception:
            pass
    return {"optimizer_steps": steps, "history_epochs": epochs, "trained_batches": state.trained}


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

    def __init__(self, emit, stack: str, keras, caps, user_files: UserFiles):
        """`caps`: the job's ProbeOptions; its epochs, max_steps, max_val_steps and
        max_fit_calls cap what the user's code may run."""
        self.emit = emit
        self.stack = stack
        self.keras = keras
        self.caps = caps
        self.user_files = user_files
        self.active: CallState | None = None
        self.calls = 0
        self.fit_exceptions: set[int] = set()
        self.warning_counts: Counter = Counter()
        self.generator_watch = None  # a GeneratorWatch, once installed
        # Batches per training-function call, read where Keras keeps it (keras_hooks
        # sets the reader; None: not known, and optimizer steps are not compared).
        self.steps_per_execution = lambda model: None

    def watch_generators(self):
        """Watch `tf.data.Dataset.from_generator` (see `generator_watch`)."""
        from diagnostics.worker.generator_watch import GeneratorWatch

        self.generator_watch = GeneratorWatch(self, lambda: _call_site(self.user_files))
        return self.generator_watch.install()

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
        """Run one fit() call (`original` on `model`) observed: its data adapted, the
        observer among its callbacks, its epochs capped; `fit-start` and `fit-end`."""
        if self.calls >= self.caps.max_fit_calls:
            self.emit("fit-call-cap", calls=self.calls, cap=self.caps.max_fit_calls)
            raise FitCallCapReached()
        state = CallState(self.calls, api, self)
        state.call_site = _call_site(self.user_files)
        self.calls += 1
        try:
            bound = inspect.signature(original).bind(model, *args, **kwargs)
        except TypeError:  # Keras itself will reject these arguments: let it say how
            return self._run_unbound(state, original, model, args, kwargs, api)
        explicit = [name for name in bound.arguments if name != "self"]
        bound.apply_defaults()
        a = bound.arguments
        train, val = self._adapt_data(state, a)
        fit_args = self._cap_epochs(a)
        observer = make_observer(self.keras.callbacks.Callback, self, state)
        undo, appended_to = self._add_observer(state, a, observer)
        self._expect_lengths(state, a, train, val)
        fit_args.update(self._fit_arguments(a, model, val))
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
            model_inputs=_model_inputs(model),
        )
        self.active = state
        outcome = None
        state.keras_before = keras_tallies(model)
        state.keras_before["steps_per_execution"] = self.steps_per_execution(model)
        try:
            result = original(*bound.args, **bound.kwargs)
        except ProbeCapReached:
            result = getattr(model, "history", None)
        except BaseException as exc:
            outcome = exc
            raise
        finally:
            self.active = None
            self._remove_observer(undo, appended_to, observer)
            for adapter in reversed(state.adapters):
                adapter.restore()
            self._finish(state, model, outcome, fit_args)
        return result

    def _run_unbound(self, state, original, model, args, kwargs, api):
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

    def _adapt_data(self, state: CallState, a: dict):
        """Wrap the training and validation data (`adapters`) and open their channels."""
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
        val = self._adapt_validation(state, a, train, data_key, batch_size, multiprocess)
        if a.get("validation_data") is not None or (a.get("validation_split") or 0) > 0:
            state.val = Channel("validation", val, self.emit)
        return train, val

    def _adapt_validation(self, state, a, train, data_key, batch_size, multiprocess):
        validation_data = a.get("validation_data")
        if validation_data is None:
            return None
        if isinstance(validation_data, tuple | list) and 1 <= len(validation_data) <= 3:
            return adapt(
                validation_data[0],
                role="validation",
                user_files=self.user_files,
                batch_size=a.get("validation_batch_size") or batch_size,
            )
        if train is not None and validation_data is train.source:
            # The same object trains and validates: it is observed once, as the
            # training source (its production counts include validation batches).
            a["validation_data"] = a[data_key]
            train.shared_with_validation = True
            return None
        val = adapt(validation_data, role="validation", user_files=self.user_files)
        if multiprocess:
            val.counts_production = False
        a["validation_data"] = val.wrap()
        state.adapters.append(val)
        return val

    def _cap_epochs(self, a: dict) -> dict:
        """fit()'s epochs, capped by the probe (in `a`); what was asked and what runs."""
        requested = a.get("epochs", 1)
        initial = a.get("initial_epoch") or 0
        capped = requested
        if isinstance(requested, int | np.integer) and not isinstance(requested, bool):
            capped = min(int(requested), int(initial) + self.caps.epochs)
            a["epochs"] = capped
        return {"epochs": requested, "epochs_run": capped, "initial_epoch": initial}

    def _add_observer(self, state: CallState, a: dict, observer):
        user_callbacks = a.get("callbacks")
        if (
            user_callbacks is not None
            and hasattr(user_callbacks, "append")
            and not isinstance(user_callbacks, list)
        ):  # a CallbackList: Keras uses it as it is, so the observer joins it for this call
            undo = _watch_stops(getattr(user_callbacks, "callbacks", []), state)
            user_callbacks.append(observer)
            return undo, user_callbacks
        user_list = _flatten_callbacks(user_callbacks)
        undo = _watch_stops(user_list, state)
        a["callbacks"] = [*user_list, observer]
        return undo, None

    @staticmethod
    def _remove_observer(undo, appended_to, observer) -> None:
        _unwatch(undo)
        if appended_to is not None:
            try:
                appended_to.callbacks.remove(observer)
            except (AttributeError, ValueError):
                pass

    @staticmethod
    def _expect_lengths(state: CallState, a: dict, train, val) -> None:
        state.known_length = positive_integral(a.get("steps_per_epoch")) or (
            train.pass_length if train is not None and not train.infinite else None
        )
        if val is not None:
            state.known_val_length = positive_integral(a.get("validation_steps")) or val.pass_length

    @staticmethod
    def _fit_arguments(a: dict, model, val) -> dict:
        validation_data = a.get("validation_data")
        return {
            "steps_per_epoch": a.get("steps_per_epoch"),
            "validation_steps": a.get("validation_steps"),
            "batch_size": a.get("batch_size"),
            "validation": None if validation_data is None else (val.kind if val else "same-as-x"),
            "validation_split": a.get("validation_split"),
            "validation_freq": a.get("validation_freq"),
            "shuffle": a.get("shuffle"),
            "steps_per_execution": _steps_per_execution(model),
            "workers": a.get("workers"),
            "use_multiprocessing": a.get("use_multiprocessing"),
        }

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
        train = state.train
        self.emit(
            "fit-end",
            call=state.index,
            keras_counts=keras_counts(state, model, exc),
            stopped_by=_stopped_by(state, model, exc, fit_args),
            epochs_completed=state.epochs_completed,
            exception=self._describe(state, exc),
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
            ),  # fmt: skip
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
            validation_overlap=_overlap(state.train, state.val),
            from_generator=(
                self.generator_watch.for_fit(state.index) if self.generator_watch else []
            ),
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
            ],  # fmt: skip
        )

    def _describe(self, state: CallState, exc: BaseException | None) -> dict | None:
        """The exception fit() raised, pointing at the user's line, with the data source's
        own error as its root cause where TensorFlow wrapped it."""
        if exc is None:
            return None
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
        return exception


def _stopped_by(state: CallState, model, exc: BaseException | None, fit_args: dict) -> str:
    """What ended the fit() call, in the report contract's words."""
    wanted = (fit_args.get("epochs_run") or 0) - (fit_args.get("initial_epoch") or 0)
    if exc is not None:
        return "exception"
    if state.cap_hit:
        return "probe-cap"
    if state.stopper:
        return "callback"
    if state.epochs_completed < wanted:
        ran_dry = state.ran_out or any(a.exhausted for a in state.adapters)
        if not ran_dry and getattr(model, "stop_training", False):
            return "callback"  # set in a hook the probe does not watch
        return "data-exhausted"
    if fit_args.get("epochs_run") != fit_args.get("epochs"):
        return "probe-cap"
    return "completed"


def _overlap(train: Channel | None, val: Channel | None) -> dict | None:
    """Rows (x fingerprints) both trained on and validated on during this fit() call."""
    if train is None or val is None or not (train.hashing_complete and val.hashing_complete):
        return None
    if train.seen.size == 0 or val.seen.size == 0:
        return None
    shared = np.intersect1d(train.seen, val.seen, assume_unique=True).size
    return {
        "train_rows": int(train.seen.size),
        "val_rows": int(val.seen.size),
        "shared_rows": int(shared),
    }


def _model_inputs(model) -> dict | None:
    """What the model takes as x: {"kind": "single" | "list" | "dict", "inputs": [{name,
    shape, dtype}]}, from its public `input`; None for a model not built yet."""
    try:
        struct = model.input
    except Exception:  # a Sequential with no Input yet: built on the first batch
        return None
    if struct is None:
        return None
    if isinstance(struct, dict):
        kind, items = "dict", list(struct.items())
    elif isinstance(struct, list | tuple):
        kind, items = "list", [(getattr(t, "name", None), t) for t in struct]
    else:
        kind, items = "single", [(getattr(struct, "name", None), struct)]
    inputs = []
    for name, tensor in items[:32]:
        try:
            shape = [None if d is None else int(d) for d in tuple(tensor.shape)]
        except (TypeError, ValueError):
            shape = None
        dtype = getattr(tensor, "dtype", None)
        inputs.append(
            {
                "name": str(name).split(":")[0] if name is not None else None,
                "shape": shape,
                "dtype": str(getattr(dtype, "name", dtype)) if dtype is not None else None,
            }
        )
    return {"kind": kind, "inputs": inputs}


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
