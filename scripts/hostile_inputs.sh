#!/usr/bin/env bash
# The hostile-input table: every crafted input of HostileInputTest run as its own bin/npid4j
# process, with its exit code, first message line, peak RSS (GNU time's %M) and wall time.
# Prints a Markdown table (docs/security.md holds the last one) and writes JSON lines to
# <corpus>/results.jsonl.   usage: scripts/hostile_inputs.sh [corpus-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
corpus="$(realpath -m "${1:-/tmp/npid4j-hostile}")"
rm -rf "$corpus"
mkdir -p "$corpus"
command -v /usr/bin/time >/dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
NPID4J_HOSTILE_CORPUS="$corpus" mvn -q -B test -Dtest=HostileInputTest -Dsurefire.failIfNoSpecifiedTests=false >&2
bin/npid4j --version >/dev/null
: > "$corpus/results.jsonl"
while IFS=$'\t' read -r name entry code expected args; do
  IFS=$'\x1f' read -r -a argv <<< "$args"
  # a run the test finished would now be "already finished": start those cases afresh
  if [ "$code" = 0 ]; then
    for a in "${argv[@]}"; do
      case "$a" in config.CHECKPOINT.DIR=*) rm -rf "${a#config.CHECKPOINT.DIR=}" ;; esac
    done
  fi
  set +e
  /usr/bin/time -o "$corpus/time.txt" -f '%M %e' bin/npid4j "${argv[@]}" >"$corpus/out.txt" 2>"$corpus/err.txt"
  rc=$?
  set -e
  read -r rss wall < <(tail -1 "$corpus/time.txt")
  [ "$expected" = "-" ] && expected=""
  msg="$(grep -m1 -E "npid4j: (error|warning)" "$corpus/err.txt" | grep -F -- "$expected" || grep -m1 -E 'npid4j:' "$corpus/err.txt" || true)"
  python3 -c 'import json,sys; print(json.dumps(dict(zip(["name","entry","expected_code","exit","rss_mb","seconds","message"], [sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), round(int(sys.argv[5])/1024,1), float(sys.argv[6]), sys.argv[7]]))))' \
    "$name" "$entry" "$code" "$rc" "$rss" "$wall" "$msg" >> "$corpus/results.jsonl"
done < "$corpus/manifest.tsv"
python3 - "$corpus/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
base = {r["entry"]: r for r in rows if r["name"].startswith("baseline")}
print("| # | crafted input | entry point | exit | peak RSS MB (vs baseline) | wall s (vs baseline) | message |")
print("|---|---|---|---|---|---|---|")
for i, r in enumerate(rows, 1):
    b = base.get(r["entry"]) or base.get("train" if r["entry"].startswith("train") else r["entry"])
    delta = "" if b is None or b is r else " (%+.0f)" % (r["rss_mb"] - b["rss_mb"])
    dt = "" if b is None or b is r else " (%+.2f)" % (r["seconds"] - b["seconds"])
    msg = r["message"].replace("|", "\\|")
    if len(msg) > 160:
        msg = msg[:157] + "..."
    ok = "" if r["exit"] == r["expected_code"] else " **(expected %d)**" % r["expected_code"]
    print("| %d | %s | %s | %d%s | %.0f%s | %.2f%s | %s |" % (i, r["name"], r["entry"], r["exit"], ok, r["rss_mb"], delta, r["seconds"], dt, msg))
PY
