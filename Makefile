# `make run` opens the tutor, `make test` runs the tests; both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/autograd-tutor: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# the CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0 numpy
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/autograd-tutor
	$(BIN)/autograd-tutor

test: $(BIN)/autograd-tutor
	$(BIN)/ruff check autograd_tutor tests bench
	$(BIN)/python -m pytest -q

bench: $(BIN)/autograd-tutor
	@$(BIN)/python bench/startup.py
	@$(BIN)/python bench/keystroke.py
	@$(BIN)/python bench/validate.py

clean:
	rm -rf $(VENV) build *.egg-info
