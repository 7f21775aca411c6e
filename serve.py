"""`fitprobe serve` (and `make run`): `streamlit run app.py`, in a process that has
started the warm pool first, so the first user's probe finds workers already past
their TensorFlow import. Streamlit runs app.py in this same process: the pages use
the very `JOBS` (and pool) started here.

    python serve.py [--port PORT] [any other `streamlit run` option]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from streamlit.web import cli as streamlit_cli

from diagnostics import JOBS

APP = Path(__file__).resolve().parent / "app.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8501)
    ns, streamlit_options = parser.parse_known_args(argv)
    JOBS.ensure_pool()  # with a queue configured: no pool here, the workers keep theirs
    args = ["run", str(APP), "--server.headless", "true", "--server.port", str(ns.port)]
    return (
        streamlit_cli.main(
            args=[*args, *streamlit_options], prog_name="streamlit", standalone_mode=False
        )
        or 0
    )


if __name__ == "__main__":
    sys.exit(main())
