#!/usr/bin/env bash
# Two launchers, node_id 0 and 1 (one process each, RUN_ID=127.0.0.1:PORT), train the quickstart
# together. After KILL_AFTER seconds node 1 is killed with SIGKILL; node 0 must stop by itself
# within config.DISTRIBUTED.TIMEOUT_SECONDS with a message naming the lost rank. Then both are
# started again (they resume from the last checkpoint), and after RESUME_FOR seconds both get
# SIGTERM: they agree on a step, rank 0 writes a checkpoint, both exit 0.
# Prints one JSON object on stdout; logs stay in $WORK.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK=${WORK:-$(mktemp -d /tmp/npid4j-2node.XXXXXX)}
KILL_AFTER=${KILL_AFTER:-90}
RESUME_FOR=${RESUME_FOR:-60}
TIMEOUT=${TIMEOUT:-60}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
NJ="$ROOT/bin/npid4j"
"$NJ" --version >/dev/null
ARGS=(train config=quickstart/npid_fashion_mnist config.CHECKPOINT.DIR="$WORK/run" config.DISTRIBUTED.NUM_NODES=2
      config.DISTRIBUTED.NUM_PROC_PER_NODE=1 config.DISTRIBUTED.RUN_ID=127.0.0.1:$PORT
      config.DISTRIBUTED.TIMEOUT_SECONDS=$TIMEOUT config.CHECKPOINT.CHECKPOINT_ITER_FREQUENCY=20 config.LOG_FREQUENCY=10)

"$NJ" "${ARGS[@]}" node_id=0 > "$WORK/node0.log" 2>&1 & N0=$!
"$NJ" "${ARGS[@]}" node_id=1 > "$WORK/node1.log" 2>&1 & N1=$!
sleep "$KILL_AFTER"
kill -9 "$N1"
killed=$(date +%s.%N)
set +e; wait "$N0"; code0=$?; set -e
noticed=$(echo "$(date +%s.%N) - $killed" | bc)
message=$(grep "training stopped" "$WORK/node0.log" | tail -1)
checkpoint=$(readlink "$WORK/run/checkpoint.torch" || echo none)

"$NJ" "${ARGS[@]}" node_id=0 > "$WORK/again0.log" 2>&1 & A0=$!
"$NJ" "${ARGS[@]}" node_id=1 > "$WORK/again1.log" 2>&1 & A1=$!
sleep "$RESUME_FOR"
kill -TERM "$A0" "$A1"
set +e; wait "$A0"; r0=$?; wait "$A1"; r1=$?; set -e
resumed=$(grep -o "resumed from [^:]*" "$WORK/again0.log" | head -1)
stopped=$(grep -o "stopped at global step [0-9]*" "$WORK/again0.log" | head -1)
python3 - "$code0" "$noticed" "$message" "$checkpoint" "$resumed" "$stopped" "$r0" "$r1" "$WORK" <<'PY'
import json, sys
code0, noticed, message, checkpoint, resumed, stopped, r0, r1, work = sys.argv[1:]
print(json.dumps({"node0_exit_code_after_node1_killed": int(code0), "node0_exit_seconds_after_kill": round(float(noticed), 2),
                  "node0_message": message, "last_checkpoint": checkpoint, "restart": resumed, "sigterm": stopped,
                  "exit_codes_after_sigterm": [int(r0), int(r1)], "logs": work}))
PY
