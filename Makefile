# Two commands do all set-up: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# torch/torchvision first, pinned to the releases that install from this machine's disk;
# a newer one would mean a multi-GB download (see README, "Installing").
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
STAMP := $(VENV)/.installed

.PHONY: demo test install bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python setup.cfg pyproject.toml
	$(PIP) install --upgrade pip setuptools wheel
	$(PIP) install $(TORCH_PINS)
	$(PIP) install -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/split_digits_ddgr.py

test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m pytest -q -n 2

bench: $(STAMP)
	$(PY) bench/metrics_bench.py

clean:
	rm -rf $(VENV) build *.egg-info
