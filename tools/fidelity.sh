#!/usr/bin/env bash
# Regenerates docs/fidelity.md: every workload in examples/fidelity/ is captured on this machine's
# kernel with rt-app, analyzed, simulated on as many CPUs and compared (`proxysim fidelity`).
# Needs root and tracefs. Usage: tools/fidelity.sh [BUILD_DIR] (default build); `make fidelity`.
# Explanations of the rows beyond tolerance come from examples/fidelity/NAME.notes, one line per
# "task<TAB>metric<TAB>explanation" ("*" as task or metric matches any).
set -eu
cd "$(dirname "$0")/.."
bin=${1:-build}/proxysim
out=docs/fidelity.md
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
{
  sed -n '/^<!-- BEGIN GENERATED -->/q;p' "$out"
  echo '<!-- BEGIN GENERATED -->'
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on Linux $(uname -r) ($(uname -m)), $(nproc) CPUs,"
  echo "rt-app $(dpkg-query -W -f '${Version}' rt-app 2>/dev/null || echo '?'), load average $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo '| workload | task | metric | kernel | proxysim | difference | beyond 10 % : why |'
  echo '|---|---|---|---|---|---|---|'
  for w in examples/fidelity/*.json; do
    name=$(basename "$w" .json)
    notes=examples/fidelity/$name.notes
    if ! "$bin" fidelity "$w" --markdown >"$tmp" 2>"$tmp.err"; then
      echo "| $name.json | - | capture failed | $(tr '\n|' '  ' <"$tmp.err") | | | |"
      continue
    fi
    while IFS= read -r line; do
      if [[ $line == *'**>tol**'* ]]; then
        task=$(cut -d'|' -f3 <<<"$line" | xargs); metric=$(cut -d'|' -f4 <<<"$line" | xargs)
        why=""
        if [ -f "$notes" ]; then
          why=$(awk -F'\t' -v t="$task" -v m="$metric" \
            '($1 == t || $1 == "*") && ($2 == m || $2 == "*") { print $3; exit }' "$notes")
        fi
        line=${line/'**>tol** |'/"**>tol**: ${why:-unexplained} |"}
      fi
      echo "$line"
    done <"$tmp"
    rm -f "$tmp.err"
  done
} >"$out.new"
mv "$out.new" "$out"
echo "wrote $out"
