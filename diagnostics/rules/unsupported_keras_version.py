"""unsupported-keras-version

## What it does
Reports a probe on a Keras whose internals fitprobe does not know (a version newer or
older than those it was built and tested for), or whose internals have moved. Batches
trained per epoch are still counted, through Keras's public callbacks; what is missing
is which batches those were: row fingerprints, replays, NaN/Inf, coverage of your data.

## Why is this bad?
It is not your code's fault, but the report knows less than usual: findings that need
per-batch details (samples never seen, replayed batches, NaN in a batch, shuffling)
cannot be made, and their silence says nothing.

## Example
```sh
pip install "keras==4.0"        # a Keras newer than this fitprobe knows
fitprobe probe train.py --local
```

## Use instead
Probe on a Keras fitprobe knows (Keras 3.x; Keras 2.15 to 2.21, TensorFlow 2.15's own
`tf.keras` or `tf_keras`), or update fitprobe:
```sh
pip install "keras>=3,<4"
```
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations

CODE = "unsupported-keras-version"
SEVERITY = "warning"
TITLE = "fitprobe does not know this Keras's internals: batches counted, not described"
PRIORITY = 80


def check(obs: Observations) -> list[Finding]:
    found = []
    for stack, record in obs.stacks.items():
        tap = record.get("tap_unavailable")
        if not tap:
            continue
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"{tap['reason']}: batches were counted, but not which ones were trained "
                "(no coverage, replays or NaN/Inf checks)",
                evidence=tap,
                fix=f"Probe on a Keras fitprobe knows ({tap['supported']}), or update fitprobe.",
                stack=[stack],
                summary={stack: f"{tap['reason']}, so batches were counted but not described"},
                priority=PRIORITY,
            )
        )
    return found
