"""The worker side of the process boundary: a process of its own, beside the user's code.

`main` applies the limits, imports TensorFlow with the stack's Keras, reads its one job
(`schema.read_job`) and runs the user's code with `fit()` intercepted (`recorder`,
`keras_hooks`), its batches observed (`channel`, `adapters`, `fingerprint`) and its
surroundings prepared (`surroundings`; `module_mode` for a data source of a module).
It streams events (`schema.EVENTS`) to the engine, and imports nothing of it.
"""
