"""Diagnosis: the code's facts, read once (`facts`), and observations -> findings ->
verdict (`diagnose`, `verdict`). No Keras runs here."""
