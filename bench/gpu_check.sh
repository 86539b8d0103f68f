#!/usr/bin/env bash
# make gpu-check, for a lent GPU machine (../shared/device/README.md; run from the checkout's root,
# also where make is missing): numpy 2.4 (and pytest) from .whl/, Fashion-MNIST from .data/, the
# gpu-marked tests, then bench/gpu.py; logs and RESULTS-gpu.md go into $OUT (default: out/).
# Each part has its own time limit, 9 minutes in all at most; the bench runs even if a test fails.
set -u
OUT="${OUT:-out}"
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 2
export PYTHONPATH="/tmp/site:$PWD" CHAINRULE_DATA="$PWD/.data"
python3 -c "import numpy, numba.cuda as c; print('numpy', numpy.__version__, 'gpu', c.is_available())" \
  2>&1 | tee "$OUT/gpu-env.txt"
timeout 240 python3 -m pytest -q -m gpu tests/gpu -p no:cacheprovider 2>&1 | tee "$OUT/gpu-tests.txt"
tests=${PIPESTATUS[0]}
timeout 300 python3 bench/gpu.py --out "$OUT/RESULTS-gpu.md" 2>&1 | tee "$OUT/gpu-bench.txt"
bench=${PIPESTATUS[0]}
echo "gpu tests exit $tests, bench exit $bench" | tee -a "$OUT/gpu-tests.txt"
[ "$tests" = 0 ] && [ "$bench" = 0 ]
