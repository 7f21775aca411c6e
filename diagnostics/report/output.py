"""What a stack printed, with TensorFlow's and CUDA's start-up logging taken out.

Every TensorFlow process writes a dozen lines a user did not cause and cannot act on
(oneDNN, CPU instructions, no CUDA driver, cuDNN factories, absl's preamble; and, in
the sandbox, fontconfig's missing configuration); they bury the line that matters.
`quiet` keeps the rest, in order, and counts what it took out: the raw text stays in
the report, one click away.
"""

from __future__ import annotations

import re

__all__ = ["quiet"]

# A C++ log record of TensorFlow, XLA or absl: glog's "I0000 00:00:1712.34   12 port.cc:153]"
# or TensorFlow's older "2024-05-01 10:00:00.123456: I tensorflow/core/util/port.cc:113]".
_RECORD = re.compile(
    r"^(?:(?P<glog>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ "
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<tf>[IWEF]) )"
    r"(?P<source>[^\s:\]]+):\d+\] (?P<message>.*)$"
)
# Warnings and errors of those loggers that are noise too: no GPU here, or GPU plugins
# registered twice, TensorRT absent, a data pipeline's end logged by every op it stops.
_NOISE = re.compile(
    r"failed call to cuInit|Could not find cuda drivers|Unable to register cu(DNN|FFT|BLAS) "
    r"factory|computation placer already registered|TF-TRT Warning|Could not find TensorRT"
    r"|oneDNN custom operations are on|This TensorFlow binary is optimized to use available "
    r"CPU instructions|cpu_feature_guard|Local rendezvous is aborting with status"
    r"|successful NUMA node read from SysFS|could not open file to read NUMA node"
    r"|Your kernel may have been built without NUMA support|Unable to register cu\w+ factory"
    r"|All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler"
    r"|^Fontconfig error: Cannot load default config file"
)
# Lines that carry on a dropped record: a traceback it quotes, TensorFlow's "[[{{node ...}}]]".
_CONTINUATION = re.compile(r"^(\s|$|Traceback \(most recent call last\):|\w+(Error|Exception): )")


def _noise(line: str) -> str | None:
    """ "info" for an info record of TensorFlow's C++ side (start-up chatter), "record" for
    a noisy warning or error record, "line" for another noisy line, None for the rest."""
    record = _RECORD.match(line)
    if record and (record["glog"] or record["tf"]) == "I":
        return "info"
    if _NOISE.search(line):
        return "record" if record else "line"
    return None


def quiet(text: str) -> tuple[str, int]:
    """`text` (a stack's stdout or stderr) without TensorFlow's and CUDA's own logging:
    (the lines kept, how many were dropped). A dropped record's continuation lines (the
    traceback a "Local rendezvous is aborting" warning repeats) go with it."""
    kept, dropped, skipping = [], 0, False
    for line in str(text or "").splitlines(keepends=True):
        noise = _noise(line.rstrip("\r\n"))
        if noise:
            dropped, skipping = dropped + 1, noise == "record"
        elif skipping and not _RECORD.match(line) and _CONTINUATION.match(line):
            dropped += 1
        else:
            kept.append(line)
            skipping = False
    return "".join(kept), dropped
