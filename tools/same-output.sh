#!/usr/bin/env bash
# Runs one corpus of workloads through two proxysim binaries and compares everything they write:
# the ftrace text trace, the metrics JSON (--no-wall), stdout, stderr and the exit code. This is
# how a change that must not alter simulated results (a speed-up, a refactoring) is checked.
#
#   tools/same-output.sh OLD_BINARY NEW_BINARY [GENWORK_BINARY]
#
# Corpus: every examples/*.json, examples/fidelity/*.json, tests/scenarios/*.json and
# tests/data/*.json workload, plus the benchmarks' 16-CPU mix and football (made with
# GENWORK_BINARY, default build/proxysim_genwork), each under the protocols none, pi, proxy and
# proxy:migrate, with --jitter 0 and 2000, with --check. IGNORE_EVENTS=1 leaves the "events"
# count of the metrics and of the summary table out of the comparison (for a change to what is
# counted as an event). Prints one line per difference and a summary; exit 1 on any difference.
set -u
cd "$(dirname "$0")/.."
old=$(realpath "$1")
new=$(realpath "$2")
genwork=$(realpath "${3:-build/proxysim_genwork}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$genwork" mix16 >"$work/mix16.json"
"$genwork" football 8 >"$work/football8.json"
corpus=(examples/*.json examples/fidelity/*.json tests/scenarios/*.json tests/data/*.json
  "$work/mix16.json" "$work/football8.json")

# The comparison filter: identity, or the events counts blanked.
normalize() {
  if [ "${IGNORE_EVENTS:-0}" = 1 ]; then
    sed -E 's/"events": [0-9]+/"events": N/; s/ events [0-9]+/ events N/' "$1"
  else
    cat "$1"
  fi
}

runs=0
diffs=0
for w in "${corpus[@]}"; do
  name=$(basename "$w" .json)
  cpus=()
  case $name in
    mix16) cpus=(--cpus 16) ;;
    football8) cpus=(--cpus 8) ;;
  esac
  for proto in none pi proxy proxy:migrate; do
    for jitter in 0 2000; do
      runs=$((runs + 1))
      for side in old new; do
        bin=$old
        [ $side = new ] && bin=$new
        d="$work/$side"
        mkdir -p "$d"
        (cd "$(dirname "$w")" && "$bin" run "$(basename "$w")" "${cpus[@]}" --protocol "$proto" \
          --jitter "$jitter" --check --no-wall --trace "$d/trace" --metrics "$d/metrics" \
          >"$d/stdout" 2>"$d/stderr")
        echo $? >"$d/rc"
      done
      for f in trace metrics stdout stderr rc; do
        [ -e "$work/old/$f" ] || [ -e "$work/new/$f" ] || continue
        if ! cmp -s <(normalize "$work/old/$f" 2>/dev/null) <(normalize "$work/new/$f" 2>/dev/null); then
          echo "DIFF $name $proto jitter $jitter: $f"
          diffs=$((diffs + 1))
        fi
      done
      rm -f "$work"/old/* "$work"/new/*
    done
  done
done
echo "$runs runs, $diffs differences"
[ $diffs -eq 0 ]
