# Set-up and entry points. `make demo` and `make test` create or update .venv on their own.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.rsa_mirror-installed
OUT ?= demo_output
# torch/torchvision pinned to the builds this lab's machines hold on disk (see README).
TORCH := torch==2.14.1 torchvision==0.29.1

.PHONY: demo test typecheck bench install clean

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

# mypy on the annotated modules ([tool.mypy] in pyproject.toml lists them)
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
	rm -rf $(VENV) $(OUT) *.egg-info .pytest_cache .mypy_cache
