"""What real Keras does with each situation script in this folder, measured and pinned on purpose.

Every number below is what plain Keras does with the script next to it, with nothing of
fitprobe's in the way: on Keras 3 (``keras`` 3.15.1, the default ``tf.keras`` of TensorFlow
2.21.0) and on Keras 2 (``tf_keras`` 2.21.0, selected with ``TF_USE_LEGACY_KERAS=1``). The
harness that measures them is in this repository, ``tests/plain_keras.py``: a fresh Python
per script and stack, real data, and only a callback appended to ``Model.fit`` that counts
callback calls. Every run of the slow tests re-measures every number here with it:
``test_plain_keras_still_does_what_expected_py_pins`` in ``tests/test_fidelity.py``, beside
that file's comparison of the same plain runs with fitprobe's reports. The plain runs there
carry fitprobe's caps (5 epochs per fit() call, 40 trained batches per epoch), which only s20
on Keras 3 reaches.
They agree with the team's ``ground-truth.md`` notes.

These are contract tests, not tolerances: if a Keras or TensorFlow upgrade changes any of these
behaviours, the tests that read this file must fail loudly so that fitprobe's rules get
re-checked, instead of silently drifting. Do not "fix" a number without re-measuring it.

Per script stem, per stack ("keras3", "keras2"):

- ``batches``: ``on_train_batch_end`` calls in each epoch that began (an epoch that crashed
  counts the batches trained before the crash; with ``steps_per_execution`` > 1 it is one call
  per execution). ``None`` only with ``runs_forever``.
- ``val_batches``: ``on_test_batch_end`` calls per epoch, or ``None`` when fit validates nothing.
- ``epochs_completed``: ``on_epoch_end`` calls (= length of ``History.history["loss"]``).
- ``exception``: class name of the exception raised out of fit (out of ``fit_generator`` for
  s14), or ``None``.
- ``fit_called``: whether ``Model.fit`` was entered at all (Keras 3 has no ``fit_generator``).
- ``runs_forever``: present and ``True`` when fit never ends an epoch (s20 on Keras 3: the
  harness's per-epoch batch cap, ``plain_keras.Caps.max_steps``, is all that ends epoch 0).
- ``ran_out_of_data_warning``: whether the "Your input ran out of data" warning was emitted
  (on the plain run's stderr).
- ``exception_match``: a substring of the exception's text (message or traceback), where useful.
- ``note``: the situation and what ``ground-truth.md`` says about it.
"""

EXPECTED = {
    "s01_infinite_generator_half_steps": {
        "keras3": {
            "batches": [5, 5, 5, 5, 5],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "keras2": {
            "batches": [5, 5, 5, 5, 5],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "infinite generator, steps_per_epoch=5, epochs=5: K3 5,5,5,5,5 (half a pass per "
            "epoch); K2 5,5,5,5,5"
        ),
    },
    "s02_sequence_len_too_small": {
        "keras3": {
            "batches": [5, 5, 5, 5, 5],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "keras2": {
            "batches": [5, 5, 5, 5, 5],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "Sequence __len__=5, data for 10, epochs=5: K3 5,5,5,5,5 (rows 50-99 never "
            "seen); K2 5,5,5,5,5"
        ),
    },
    "s03_generator_swallows_error": {
        "keras3": {
            "batches": [1, 1, 1, 1, 1],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [1],
            "val_batches": None,
            "epochs_completed": 1,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "note": (
            "finite generator catches its own error after batch 1 and breaks, "
            "steps_per_epoch=10, epochs=5: K3 1,1,1,1,1 + ran-out-of-data warning, history "
            "5; K2 1 then stops, history 1"
        ),
    },
    "s04_finite_generator_steps": {
        "keras3": {
            "batches": [10, 0, 2, 2, 2],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [10, 0],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "note": (
            "finite generator (10 batches), steps_per_epoch=10, epochs=5: K3 10,0,2,2,2 + "
            "warning, epoch 1 loss 0.0, peeked batches replayed; K2 10,0 then stops, "
            "history 2"
        ),
    },
    "s05_finite_generator_no_steps": {
        "keras3": {
            "batches": [10, 2, 2, 2, 2],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [10, 0],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "note": (
            "same finite generator, no steps_per_epoch, epochs=5: K3 10,2,2,2,2 + warning; "
            "K2 10,0 then stops, history 2"
        ),
    },
    "s06_dataset_exact_steps": {
        "keras3": {
            "batches": [10, 10, 10, 10, 10],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "keras2": {
            "batches": [10, 10, 10, 10, 10],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "tf.data of 10 batches, no repeat, steps_per_epoch=10, epochs=5: K3 "
            "10,10,10,10,10; K2 same"
        ),
    },
    "s07_dataset_too_many_steps": {
        "keras3": {
            "batches": [10, 10, 10, 10, 10],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [10],
            "val_batches": None,
            "epochs_completed": 1,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "note": (
            "tf.data of 10 batches, steps_per_epoch=20, epochs=5: K3 10,10,10,10,10 + "
            "warning; K2 10 then stops, history 1"
        ),
    },
    "s08_dataset_few_steps": {
        "keras3": {
            "batches": [4, 4, 2, 4, 4],
            "val_batches": None,
            "epochs_completed": 5,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [4, 4, 2],
            "val_batches": None,
            "epochs_completed": 3,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "note": (
            "tf.data of 10 batches, steps_per_epoch=4, epochs=5: K3 4,4,2,4,4 + warning; K2 "
            "4,4,2 then stops, history 3"
        ),
    },
    "s09_sequence_len_too_large": {
        "keras3": {
            "batches": [1],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "InvalidArgumentError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "Incompatible shapes",
        },
        "keras2": {
            "batches": [1],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "InvalidArgumentError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "Incompatible shapes",
        },
        "note": (
            "Sequence __len__=15, data for 10, epochs=3: crash in epoch 0, "
            "InvalidArgumentError 'Incompatible shapes: [10,1] vs. [0,1]' on both stacks. "
            "Measured: fit shuffles the Sequence's batch order (Python random), so the "
            "script calls keras.utils.set_random_seed(0); with it the first empty batch "
            "comes second on both stacks"
        ),
    },
    "s10_generator_raises": {
        "keras3": {
            "batches": [5],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "InvalidArgumentError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "bad row 50",
        },
        "keras2": {
            "batches": [5],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "InvalidArgumentError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "bad row 50",
        },
        "note": (
            "infinite generator raises ValueError at row 50, steps_per_epoch=10, epochs=5: "
            "the ValueError surfaces wrapped in a TF error from PyFunc on both stacks"
        ),
    },
    "s11_early_stopping_arrays": {
        "keras3": {
            "batches": [10, 10],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "keras2": {
            "batches": [10, 10],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "arrays + EarlyStopping(monitor='loss', patience=0, min_delta=10), epochs=5: "
            "10,10 then stops (callback), history 2, both stacks"
        ),
    },
    "s12_finite_validation_generator": {
        "keras3": {
            "batches": [11, 11, 11, 11],
            "val_batches": [11, 2, 2, 2],
            "epochs_completed": 4,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [11, 11, 11, 11],
            "val_batches": [11, 0, 0, 0],
            "epochs_completed": 4,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "note": (
            "infinite train generator + finite validation generator (11 batches), "
            "steps_per_epoch=11, validation_steps=11, epochs=4: K3 val 11,2,2,2 + warning; "
            "K2 val_loss only for epoch 0. Measured: K2 still calls on_test_begin in epochs "
            "1-3 but runs 0 validation batches"
        ),
    },
    "s13_short_batch_label_mismatch": {
        "keras3": {
            "batches": [10],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "InvalidArgumentError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "Incompatible shapes",
        },
        "keras2": {
            "batches": [10],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "InvalidArgumentError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "Incompatible shapes",
        },
        "note": (
            "infinite generator over 105 rows yielding x[i:i+10], np.zeros(10), "
            "steps_per_epoch=11, epochs=3: crash in epoch 0 at the short batch, "
            "InvalidArgumentError, both stacks"
        ),
    },
    "s14_fit_generator": {
        "keras3": {
            "batches": [],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "AttributeError",
            "fit_called": False,
            "ran_out_of_data_warning": False,
            "exception_match": "fit_generator",
        },
        "keras2": {
            "batches": [10, 10],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "model.fit_generator(...): K3 AttributeError (no fit_generator); K2 works with "
            "a deprecation warning"
        ),
    },
    "s15_nan_terminate_on_nan": {
        "keras3": {
            "batches": [6],
            "val_batches": None,
            "epochs_completed": 1,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "keras2": {
            "batches": [6],
            "val_batches": None,
            "epochs_completed": 1,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "NaN in one row + TerminateOnNaN(), steps_per_epoch=11, epochs=3: 6 then stops, "
            "history 1, both stacks"
        ),
    },
    "s16_steps_per_execution_generator": {
        "keras3": {
            "batches": [3, 1, 1],
            "val_batches": None,
            "epochs_completed": 3,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "ValueError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "Could not infer the size of the data",
        },
        "note": (
            "finite generator of 11 batches, compile(steps_per_execution=4), epochs=3: K3 "
            "3,1,1 callback calls + warning; K2 ValueError 'Could not infer the size of the "
            "data'"
        ),
    },
    "s17_workers_multiprocessing": {
        "keras3": {
            "batches": [],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "TypeError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "workers",
        },
        "keras2": {
            "batches": [11, 11],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "infinite generator, fit(workers=2, use_multiprocessing=True): K3 TypeError "
            "unexpected keyword 'workers'; K2 runs 11,11"
        ),
    },
    "s18_generator_yields_list": {
        "keras3": {
            "batches": [],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "ValueError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "must return a tuple",
        },
        "keras2": {
            "batches": [10, 10],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "generator yields a list [x, y], steps_per_epoch=10, epochs=2: K3 ValueError "
            "'must return a tuple'; K2 runs 10,10"
        ),
    },
    "s19_empty_generator": {
        "keras3": {
            "batches": [],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "ValueError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "empty generator",
        },
        "keras2": {
            "batches": [],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "StopIteration",
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "generator that yields nothing, steps_per_epoch=10: K3 ValueError 'Received an "
            "empty generator'; K2 bare StopIteration"
        ),
    },
    "s20_dataset_repeat_no_steps": {
        "keras3": {
            "batches": None,
            "val_batches": None,
            "epochs_completed": 0,
            "exception": None,
            "fit_called": True,
            "runs_forever": True,
            "ran_out_of_data_warning": False,
        },
        "keras2": {
            "batches": [],
            "val_batches": None,
            "epochs_completed": 0,
            "exception": "ValueError",
            "fit_called": True,
            "ran_out_of_data_warning": False,
            "exception_match": "infinite dataset",
        },
        "note": (
            "tf.data with .repeat(), no steps_per_epoch: K3 runs forever; K2 ValueError "
            "'When providing an infinite dataset, you must specify the number of steps'"
        ),
    },
    "s21_sequence_few_steps": {
        "keras3": {
            "batches": [4, 4, 2],
            "val_batches": None,
            "epochs_completed": 3,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [4, 4, 4],
            "val_batches": None,
            "epochs_completed": 3,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": False,
        },
        "note": (
            "Sequence __len__=10, steps_per_epoch=4, epochs=3: K3 4,4,2 + warning; K2 4,4,4"
        ),
    },
    "s22_sequence_short_len_steps": {
        "keras3": {
            "batches": [5, 5],
            "val_batches": None,
            "epochs_completed": 2,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "keras2": {
            "batches": [5],
            "val_batches": None,
            "epochs_completed": 1,
            "exception": None,
            "fit_called": True,
            "ran_out_of_data_warning": True,
        },
        "note": (
            "Sequence __len__=5 (data for 10), steps_per_epoch=10, epochs=2: K3 5,5 + "
            "warning; K2 5 then stops, history 1"
        ),
    },
}
