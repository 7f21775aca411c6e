PY ?= python3
VENV ?= .venv
PORT ?= 8501

BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint clean

venv: $(STAMP)

# Re-install only when a requirements file is newer than the last install.
$(STAMP): $(wildcard requirements*.txt) constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --no-input -r requirements-dev.txt
	touch $@

run: venv
	$(BIN)/streamlit run app.py --server.headless true --server.port $(PORT)

test: venv
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: venv
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
