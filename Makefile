PY ?= python3
VENV ?= .venv
PORT ?= 8501

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

COMPAT ?= .venv-compat
COMPAT_STAMP := $(COMPAT)/.installed

.PHONY: venv sandbox run test test-fast test-compat lint clean

venv: $(STAMP)

# Re-install only when a requirements file is newer than the last install.
$(STAMP): $(wildcard requirements*.txt) constraints.txt pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -r requirements-dev.txt
	# fitprobe itself, editable: the `fitprobe` command (local mode), same code as the tree
	$(BIN)/python -m pip install --disable-pip-version-check --no-input --no-deps \
		--no-build-isolation -e .
	touch $@

# Probes run strangers' code: bubblewrap sandboxes them (see diagnostics/engine/sandbox.py).
# Installed here where it can be (root with apt-get), else explained; without it,
# probes fall back to resource limits, and every report says so.
sandbox:
	@command -v bwrap >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends bubblewrap; \
	else \
		echo "note: bubblewrap (bwrap) is not installed, so probes run without the sandbox,"; \
		echo "      with resource limits only. Install it: sudo apt-get install bubblewrap"; \
	fi

# `fitprobe serve` is `streamlit run app.py` with the warm pool started first: the first
# probe finds workers past their TensorFlow import.
run: venv sandbox
	$(BIN)/fitprobe serve --port $(PORT)

test: venv
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/python -m pytest --ignore=tests/compat

# The inner loop: everything that needs no TensorFlow probe (well under a minute).
test-fast: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow" --ignore=tests/compat -q

# A second environment with TensorFlow 2.15 (Keras 2 as tf.keras): local-mode probes of
# the seed article's examples and ground-truth situations, against plain Keras there.
$(COMPAT_STAMP): requirements-compat.txt pyproject.toml
	test -x $(COMPAT)/bin/python || $(PY) -m venv $(COMPAT)
	$(COMPAT)/bin/python -m pip install --disable-pip-version-check --no-input -r requirements-compat.txt
	$(COMPAT)/bin/python -m pip install --disable-pip-version-check --no-input -e .
	touch $@

test-compat: $(COMPAT_STAMP)
	$(COMPAT)/bin/python -m pytest tests/compat -p no:cacheprovider

lint: venv
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) $(COMPAT) .pytest_cache .ruff_cache test-artifacts build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
