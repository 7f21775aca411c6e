"""The engine side of the process boundary: the app's or the CLI's process.

It reads the input (`inputs`, `notebook`, `attach`), starts and contains the workers
(`isolation`, `sandbox`, `pool`, `local` for the user's own machine), runs them
(`stacks`), turns their events into runs (`assemble`), and for the app runs probes on
threads (`jobs`) and keeps the history (`store`). `probe` orchestrates. It talks to a
worker only through `diagnostics.schema`, and imports nothing of the worker's.
"""
