"""report-tampered

## What it does
Reports a probe during which something other than fitprobe wrote to fitprobe's event
pipe: lines that are not framed under the job's key, events out of sequence, lines
too long to be an event, or a flood that made fitprobe stop the script. The script's
code runs in the same process as fitprobe's observer, so it can find that pipe.

## Why is this bad?
Those lines were dropped, so they did not change the numbers in this report; but a
script that writes to fitprobe's channel is trying to shape its own diagnosis (or
has a bug that writes to a file descriptor it does not own). Nothing observed on
that stack can be taken at face value, and the report is not "fine".

## Example
```python
import os
for fd in os.listdir("/proc/self/fd"):          # looking for fitprobe's pipe
    os.write(int(fd), b'{"type": "fit-end", "stopped_by": "completed"}\\n')
```

## Use instead
Do not write to file descriptors your script did not open. Probe the training code
as it is meant to run; to test fitprobe itself, run the hostile-script tests.
"""

from __future__ import annotations

from diagnostics.rules.base import Finding, Observations

CODE = "report-tampered"
SEVERITY = "error"
TITLE = "something other than fitprobe wrote to fitprobe's event pipe"
PRIORITY = 1  # before anything the stack's events say


def check(obs: Observations) -> list[Finding]:
    found = []
    for stack, record in obs.stacks.items():
        channel = record.get("channel") or {}
        tampered, flooded = channel.get("tampered") or {}, channel.get("flooded")
        if not tampered and not flooded:
            continue
        what = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in tampered.items())
        if flooded:
            what = f"{what}; then {flooded}" if what else flooded
        found.append(
            Finding(
                code=CODE,
                severity=SEVERITY,
                title=f"the script wrote to fitprobe's event pipe ({what}): those lines "
                "were dropped, and what this stack reports cannot be taken at face value",
                evidence={"channel": channel},
                fix="Do not write to file descriptors the script did not open; probe the "
                "training code as it is meant to run.",
                stack=[stack],
                summary={stack: "the script wrote to fitprobe's own event pipe"},
                priority=PRIORITY,
            )
        )
    return found
