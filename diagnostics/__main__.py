"""`python -m diagnostics`: the command line (`fitprobe` is the same)."""

from diagnostics.cli import run

raise SystemExit(run())
