#!/usr/bin/env bash
# Scenario tests: each tests/scenarios/NAME.json is run (or given to the subcommand in NAME.cmd,
# e.g. compare) with the options in NAME.args (one line, optional) and its stdout and stderr
# compared with NAME.expected; each tests/invalid/NAME.json must exit 2
# with stderr equal to NAME.expected.
set -u
bin=$(realpath "$1")
dir=$(realpath "$2")
fail=0
n=0
for j in "$dir"/scenarios/*.json; do
  [ -e "$j" ] || continue
  name=${j%.json}
  args=""
  [ -f "$name.args" ] && args=$(cat "$name.args")
  cmd=run
  [ -f "$name.cmd" ] && cmd=$(cat "$name.cmd")
  n=$((n + 1))
  out=$(cd "$dir/scenarios" && "$bin" $cmd "$(basename "$j")" --check $args 2>&1)
  rc=$?
  if [ -f "$name.expected" ]; then
    if ! diff -u "$name.expected" <(printf '%s\n' "$out") >/dev/null; then
      echo "FAIL scenario $(basename "$name") (rc $rc):"
      diff -u "$name.expected" <(printf '%s\n' "$out") | head -40
      fail=$((fail + 1))
    fi
  else
    echo "FAIL scenario $(basename "$name"): no .expected file"
    fail=$((fail + 1))
  fi
done
for j in "$dir"/invalid/*.json; do
  [ -e "$j" ] || continue
  name=${j%.json}
  n=$((n + 1))
  err=$(cd "$dir/invalid" && "$bin" run "$(basename "$j")" 2>&1 >/dev/null)
  rc=$?
  if [ $rc -ne 2 ] || ! diff -u "$name.expected" <(printf '%s\n' "$err") >/dev/null; then
    echo "FAIL invalid $(basename "$name") (rc $rc, want 2):"
    diff -u "$name.expected" <(printf '%s\n' "$err") | head -20
    fail=$((fail + 1))
  fi
done
echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
