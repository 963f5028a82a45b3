# Two entry points for a fresh machine: `make demo` and `make test`. Both install what is needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_SPEC ?= $(shell sh tools/torch-spec.sh $(PYTHON))
DEMO_OUT ?= demo_out
PYTEST_ARGS ?=

.PHONY: install demo test bench docs clean

$(VENV)/.installed: pyproject.toml tools/torch-spec.sh Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[all,dev]"
	# torchcrepe (pitch and periodicity metrics) declares torchaudio, whose wheels pin other torch
	# builds; it needs torchaudio only to read files, so it is installed without its dependencies
	$(PY) -m pip install -q --no-deps "torchcrepe>=0.0.22" "resampy>=0.4"
	touch $@

install: $(VENV)/.installed

demo: install
	$(PY) -m hifilite demo --out $(DEMO_OUT)

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: install
	$(PY) benchmarks/bench_vocoders.py

# The documentation site (docs/, mkdocs.yml): a broken internal link fails the build.
docs: install
	$(PY) -m mkdocs build --strict -d site

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
