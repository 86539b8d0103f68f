# chainrule: `make demo` installs everything and runs the main job; `make test` runs the tests.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: demo test install system-deps bench gallery lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

install: $(BIN)/python system-deps
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'

# Fashion-MNIST and pdflatex come from Debian; skipped (with a note) where apt-get is unavailable.
system-deps:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  apt-get install -y -q dataset-fashion-mnist texlive-latex-base texlive-latex-recommended poppler-utils >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist texlive-latex-base texlive-latex-recommended poppler-utils >/dev/null 2>&1) || \
	  echo "note: could not install dataset-fashion-mnist/texlive/poppler-utils; continuing without them"; \
	else echo "note: not root or no apt-get: skipping dataset-fashion-mnist, texlive and poppler-utils"; fi

# The main job: derive (terminal), export LaTeX (and a PDF where pdflatex exists), check the kernels,
# and train on an embedded default: the moons set always, Fashion-MNIST too when it is installed.
demo: install
	@mkdir -p $(OUT)
	$(BIN)/chainrule derive expr "sigmoid(z)" --wrt z --at "z=3.2"
	$(BIN)/chainrule derive graph "1/(1+exp(-(w0*x0+w1*x1+w2)))" --at "w=[2,-3,-3],x=[-1,-2]" --plot $(OUT)/sigmoid_graph.png
	$(BIN)/chainrule derive neuron --activation sigmoid --loss bce --at "x=[1,2],w=[0.5,-0.3],b=0.1,t=1"
	$(BIN)/chainrule derive net mlp:2-3-1 --activation sigmoid --loss half_mse --format latex --standalone --out $(OUT)/backprop.tex
	@if command -v pdflatex >/dev/null 2>&1; then \
	  (cd $(OUT) && pdflatex -interaction=nonstopmode -halt-on-error backprop.tex >/dev/null) && echo "wrote $(OUT)/backprop.pdf"; fi
	$(BIN)/chainrule summary lenet5
	$(BIN)/chainrule gradcheck mlp:4-5-3
	$(BIN)/chainrule train mlp:2-16-16-1 --data moons --epochs 60 --batch 16 --lr 0.3 --activation tanh \
	  --plot $(OUT)/moons.png --out $(OUT)/moons.npz
	@if $(BIN)/python -c "from chainrule.train.data.discovery import find_named; find_named('fashion-mnist')" 2>/dev/null; then \
	  $(BIN)/chainrule train mlp:784-128-10 --data fashion-mnist --epochs 3 --batch 64 --lr 0.1 \
	    --plot $(OUT)/fashion.png --out $(OUT)/fashion.npz; \
	else echo "Fashion-MNIST not installed: skipped (apt-get install dataset-fashion-mnist)"; fi
	@echo "outputs in $(OUT)/"

# Two pytest workers on two cores: one numba/BLAS thread each, or they oversubscribe the cores.
test: install
	NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
	  $(BIN)/python -m pytest -q -n 2 -m "not slow and not gpu"

# Fuzz the expression parser for 60 s with atheris (libFuzzer), seeded by fuzz/corpus; new inputs
# go to $(OUT)/fuzz/work (the committed corpus stays as it is), a crash to $(OUT)/fuzz/crash-*.
.PHONY: fuzz
fuzz: install
	$(BIN)/pip install -q atheris
	@rm -rf $(OUT)/fuzz && mkdir -p $(OUT)/fuzz/work
	cd $(OUT)/fuzz && $(abspath $(BIN))/python $(CURDIR)/fuzz/expr_parser.py -max_total_time=60 \
	  -dict=$(CURDIR)/fuzz/expr.dict work $(CURDIR)/fuzz/corpus

# PyTorch and JAX live only in the bench's own environment (CPU builds: torch 2.13.0, jax 0.10.2).
# 13-23 minutes on the shared 2-core machine (less when idle; the two-conv net takes most);
# options: make bench BENCH_ARGS="--models mlp --one-thread" (bench/run.py --help). It adds a
# dated section to bench/RESULTS.md.
bench: install
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install -q torch==2.13.0 jax==0.10.2
	.venv-bench/bin/pip install -q -e .
	.venv-bench/bin/python bench/run.py $(BENCH_ARGS)

# On a lent GPU machine (../shared/device/README.md; no network there): bench/gpu_check.sh installs
# the numpy 2.4 wheel (and pytest) from .whl/, reads Fashion-MNIST from .data/, runs the gpu-marked
# tests and bench/gpu.py (chainrule CUDA vs PyTorch CUDA); logs and RESULTS-gpu.md go into $(OUT).
# Prepare both folders here first with `make gpu-prepare` (they are git-ignored: send them along).
.PHONY: gpu-check gpu-prepare
gpu-check:
	OUT=$(OUT) bash bench/gpu_check.sh

gpu-prepare:
	python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
	  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl \
	  numpy==2.4.6 pytest pluggy iniconfig packaging
	mkdir -p .data && cp -n /usr/share/datasets/fashion-mnist/*.gz .data/

lint: install
	$(BIN)/ruff check chainrule tests

clean:
	rm -rf $(VENV) .venv-bench $(OUT) .pytest_cache
