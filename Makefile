# Set-up and entry points. `make demo` and `make test` create or update .venv on their own.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rsa_mirror-installed
OUT ?= demo_output
# torch/torchvision pinned to the versions the tests and benchmarks were run with; override with
# make TORCH='torch==X torchvision==Y' (docs/installation.md).
TORCH := torch==2.14.1 torchvision==0.29.1

DOCS_STAMP := $(VENV)/.rsa_mirror-docs-installed
# Examples the gallery runs while building the docs, each at its small documented setting (a
# regular expression on their file names; '^$' runs none). Empty: all of them.
GALLERY ?=

.PHONY: demo test typecheck bench docs install clean

install: $(STAMP)

$(STAMP): setup.cfg pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing $(TORCH) and rsa_mirror into $(VENV) (the first time takes a few minutes)"
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[all,test]'
	$(BIN)/rsa-mirror fetch-face-mesh || echo "warning: face mesh not fetched; faces will be procedural heads"
	touch $@

demo: $(STAMP)
	$(BIN)/rsa-mirror demo --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -m "not gpu"

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[all,test,docs]'
	touch $@

# The documentation into docs/_build/html; a warning (a broken docstring, link or example) is an error.
docs: $(DOCS_STAMP)
	$(if $(GALLERY),RSA_MIRROR_GALLERY_EXECUTE='$(GALLERY)') MPLBACKEND=Agg \
		$(BIN)/python -m sphinx -b html -W --keep-going -q docs docs/_build/html
	@echo "docs: docs/_build/html/index.html"

# mypy on every module of the three packages ([tool.mypy] in pyproject.toml)
typecheck: $(STAMP)
	$(BIN)/python -m mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_compute_rdms.py
	$(BIN)/python benchmarks/bench_render.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_bootstrap.py
	$(BIN)/python benchmarks/bench_demo.py
	$(BIN)/python benchmarks/bench_training.py
	OPENBLAS_NUM_THREADS=1 $(BIN)/python benchmarks/bench_importance.py --modes eager compile

clean:
	rm -rf $(VENV) $(OUT) *.egg-info .pytest_cache docs/_build docs/generated docs/auto_examples docs/sg_execution_times.rst .mypy_cache
