"""The parent's end of a worker's event pipe: bounded reading, and only the worker's
own events through.

The user's code runs in the worker's process: it can find the pipe and write to it.
So, once the job is sent, a line counts only when it is framed under this job's key
with the next sequence number (`schema.unframe`); anything else is counted as
tampering and dropped, and the report says so (`report-tampered`). The key lives in
the worker's memory, which the script shares: this makes a forged report detectable
for a script that writes to the pipe, not impossible for one that goes after the key.
The report says that much (`trust`).

Reading is bounded whatever arrives: a line longer than MAX_LINE_BYTES is dropped
as it streams (never held whole), and past MAX_CHANNEL_BYTES or MAX_EVENTS the
channel stops reading and the engine ends the worker (`flooded`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator

from diagnostics.schema import PRE_JOB_EVENTS, unframe

__all__ = ["EventChannel", "MAX_CHANNEL_BYTES", "MAX_EVENTS", "MAX_LINE_BYTES", "TRUST"]

# A probe's own events are small (the largest, a fit() call's end, a few hundred kB at
# the default caps) and few (at most a batch event per trained step): these bounds are
# far above them and far below what would hurt the server.
MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_CHANNEL_BYTES = 256 * 1024 * 1024
MAX_EVENTS = 1_000_000
CHUNK = 64 * 1024
TRUST = (
    "observed in a process the script shares: events are framed under a key of this "
    "job's, so lines the script writes to fitprobe's pipe are caught, but a script that "
    "goes after fitprobe's own objects in its process could still mislead it"
)


class EventChannel:
    def __init__(self):
        self.key: bytes | None = None  # set when the job is sent
        self.tampered: Counter = Counter()  # what was dropped, by kind
        self.bytes = 0
        self.events = 0
        self.flooded: str | None = None  # why reading stopped early, if it did
        self._next_seq = 0

    def lines(self, fd: int) -> Iterator[bytes]:
        """The complete lines on `fd`, each at most MAX_LINE_BYTES, until it closes or
        floods; reads in chunks, so no line is ever held beyond the bound."""
        pending, skipping = bytearray(), False
        while True:
            chunk = os.read(fd, CHUNK)
            if not chunk:
                return
            self.bytes += len(chunk)
            if self.bytes > MAX_CHANNEL_BYTES:
                self.flooded = f"more than {MAX_CHANNEL_BYTES // 2**20} MB on its event pipe"
                return
            start = 0
            while (end := chunk.find(b"\n", start)) != -1:
                if not skipping:
                    pending += chunk[start:end]
                    if len(pending) <= MAX_LINE_BYTES:
                        yield bytes(pending)
                    else:
                        self.tampered["oversized line"] += 1
                pending.clear()
                skipping = False
                start = end + 1
                self.events += 1
                if self.events > MAX_EVENTS:
                    self.flooded = f"more than {MAX_EVENTS:,} lines on its event pipe"
                    return
            if not skipping:
                pending += chunk[start:]
                if len(pending) > MAX_LINE_BYTES:  # drop it as it streams
                    self.tampered["oversized line"] += 1
                    pending.clear()
                    skipping = True

    def accept(self, line: bytes) -> bytes | None:
        """The event's JSON when the worker wrote this line, else None (counted)."""
        if self.key is not None:
            framed = unframe(self.key, line)
            if framed is not None:
                seq, payload = framed
                if seq != self._next_seq:
                    self.tampered["replayed or reordered event"] += 1
                    return None
                self._next_seq += 1
                return payload
        if self._next_seq == 0 and _pre_job(line):  # nothing framed yet: no user code ran
            return line
        self.tampered["line not written by fitprobe"] += 1
        return None

    def to_dict(self) -> dict:
        return {
            "bytes": self.bytes,
            "events": self.events,
            "tampered": dict(self.tampered),
            "flooded": self.flooded,
        }


def _pre_job(line: bytes) -> bool:
    try:
        event = json.loads(line)
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("type") in PRE_JOB_EVENTS
