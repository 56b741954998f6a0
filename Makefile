# `make run` opens the tutor, `make test` runs the tests; both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench test-tools clean

$(BIN)/autograd-tutor: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# the CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0 numpy
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/autograd-tutor
	$(BIN)/autograd-tutor

test: $(BIN)/autograd-tutor test-tools
	$(BIN)/ruff check autograd_tutor tests bench
	$(BIN)/ruff format --check autograd_tutor tests bench
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

# The end-to-end tests drive a real terminal, ssh client, sshd and browser (Debian packages).
test-tools:
	@missing=""; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	command -v ssh >/dev/null || missing="$$missing openssh-client"; \
	test -x /usr/sbin/sshd || missing="$$missing openssh-server"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  echo "installing$$missing for the end-to-end tests"; \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: $(BIN)/autograd-tutor
	@$(BIN)/python bench/startup.py
	@$(BIN)/python bench/keystroke.py
	@$(BIN)/python bench/symbolic.py
	@$(BIN)/python bench/validate.py
	@$(BIN)/python bench/parser.py
	@$(BIN)/python bench/lab.py
	@$(BIN)/python bench/practice.py

clean:
	rm -rf $(VENV) build *.egg-info
