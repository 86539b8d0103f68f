#!/bin/bash
# Start-up of the chainrule CLI: the median of 5 fresh processes, wall clock and user+sys CPU.
# Usage: bench/startup.sh TREE [ARGS...]   (TREE: a checkout; run it from outside TREE, e.g. /tmp,
# so that the current folder does not shadow it; PYTHON: the interpreter with the dependencies)
tree=$1; shift
log=${TMPDIR:-/tmp}/startup.$$
for i in 1 2 3 4 5; do
  PYTHONPATH=$tree /usr/bin/time -q -f "%e %U %S" -a -o "$log" ${PYTHON:-python3} -c \
    "import sys; sys.argv=['chainrule', *sys.argv[1:]]; from chainrule.cli.main import main; main()" \
    "$@" >/dev/null 2>&1
done
echo "chainrule $*: wall median $(awk '{print $1}' "$log" | sort -n | sed -n 3p) s;" \
  "cpu median $(awk '{print $2+$3}' "$log" | sort -n | sed -n 3p) s"
rm -f "$log"
