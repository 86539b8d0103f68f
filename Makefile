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
	  apt-get install -y -q dataset-fashion-mnist texlive-latex-base >/dev/null 2>&1 || \
	  (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist texlive-latex-base >/dev/null 2>&1) || \
	  echo "note: could not install dataset-fashion-mnist/texlive-latex-base; continuing without them"; \
	else echo "note: not root or no apt-get: skipping dataset-fashion-mnist and texlive-latex-base"; fi

demo: install
	@mkdir -p $(OUT)
	$(BIN)/chainrule derive expr "sigmoid(w*x + b)" --wrt w --at "w=2,x=1.5,b=0.2"

# Two pytest workers on two cores: one numba/BLAS thread each, or they oversubscribe the cores.
test: install
	NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
	  $(BIN)/python -m pytest -q -n 2 -m "not slow and not gpu"

bench: install
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check chainrule tests

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
