#!/usr/bin/env bash
# The training runs of `make pgo`: an instrumented proxysim (BUILD/proxysim, built with
# -DPROXYSIM_PGO=generate) runs workloads that cover what users run, and its counts land in
# BUILD as .gcda files for the optimised rebuild. The runs cover the four classes' hot paths
# (the benchmarks' 16-CPU mix of fair, RT and DEADLINE tasks, and their DEADLINE set), the
# locking protocols and proxy execution (football under each protocol, the examples), many
# CPUs (fair tasks on 64 CPUs), and the outputs (ftrace text, trace.dat, Perfetto JSON,
# metrics JSON, CSV).
#
#   tools/pgo-train.sh BUILD
set -euo pipefail
cd "$(dirname "$0")/.."
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sim="$build/proxysim"

"$build/proxysim_genwork" mix16 >"$work/mix16.json"
"$build/proxysim_genwork" football 8 >"$work/football8.json"
"$build/proxysim_genwork" fair 2000 >"$work/fair2k.json"
"$build/proxysim_genwork" dlset >"$work/dlset.json"

"$sim" run "$work/mix16.json" --cpus 16 --duration 2 -q
"$sim" run "$work/mix16.json" --cpus 16 --duration 1 -q --metrics "$work/m.json" \
  --csv "$work/csv" --trace "$work/t.txt" --trace-dat "$work/t.dat" --trace-json "$work/t.json"
for p in none pi proxy proxy:migrate; do
  "$sim" run "$work/football8.json" --cpus 8 --protocol "$p" -q --metrics "$work/m.json"
done
"$sim" run "$work/fair2k.json" --cpus 64 --duration 0.5 -q
"$sim" run "$work/dlset.json" --cpus 4 --duration 20 -q
for w in examples/*.json; do
  "$sim" compare "$w" --duration 0.5 >/dev/null
done
"$sim" demo >/dev/null
