"""`python -m diagnostics.worker STACK DEVICE MEMORY_MB FILE_MB`: one probe worker."""

import os
import sys

from diagnostics.worker.main import main

if __name__ == "__main__":
    try:
        code = main(sys.argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    # Skip interpreter teardown: TensorFlow's threads can hang it, and the
    # user's atexit handlers have nothing left to do for the probe.
    os._exit(code)
