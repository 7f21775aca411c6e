import os
import sys

from diagnostics.cli import main

try:
    code = main()
    sys.stdout.flush()  # a pipe's reader that went away shows here, if not before
except BrokenPipeError:  # `... | head` read what it wanted: no traceback for that
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # for the exit's flush
    code = 128 + 13  # as a shell reports a program that SIGPIPE ended
raise SystemExit(code)
