PY ?= python3
VENV ?= .venv
PORT ?= 8501

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv sandbox run test lint clean

venv: $(STAMP)

# Re-install only when a requirements file is newer than the last install.
$(STAMP): $(wildcard requirements*.txt) constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -r requirements-dev.txt
	touch $@

# Probes run strangers' code: bubblewrap sandboxes them (see diagnostics/sandbox.py).
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

run: venv sandbox
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT)

test: venv
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .
	$(BIN)/hadolint Dockerfile

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
