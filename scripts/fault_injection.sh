#!/usr/bin/env bash
# Fault injection for exact resume (issue 4). Trains a quickstart-sized NPID run (the quickstart
# model and loss on a Fashion-MNIST subset), kills it with SIGKILL at random moments -- some of
# them while a checkpoint is being written -- and starts the same command again each time. Every
# finished run's final checkpoint is compared bitwise with an uninterrupted run's
# (CheckpointCompare: weights, BN buffers, memory bank, Z, momentum, generator state).
# Finally one run is sent SIGTERM and must write a checkpoint and exit 0.
#
#   scripts/fault_injection.sh            # at least 20 kills, at most 5 per run, at least 4 runs
#   KILLS=40 TRIALS=8 scripts/fault_injection.sh
# Prints one JSON object on stdout; logs stay in $WORK.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KILLS=${KILLS:-20}
TRIALS=${TRIALS:-4}
WORK=${WORK:-$(mktemp -d /tmp/npid4j-faults.XXXXXX)}
NPID4J="$ROOT/bin/npid4j"
ARGS=(train config=quickstart/npid_fashion_mnist config.DATA.TRAIN.DATA_LIMIT=3000 config.DATA.TEST.DATA_LIMIT=1000
      config.OPTIMIZER.num_epochs=3 config.CHECKPOINT.CHECKPOINT_ITER_FREQUENCY=4 config.LOG_FREQUENCY=1
      config.KNN_MONITOR.RAW_PIXEL_BASELINE=false)
FINAL=model_final_checkpoint_phase2.torch
STEPS_PER_EPOCH=24  # ceil(3000 / 128)

"$NPID4J" --version >/dev/null 2>&1 || true  # builds once, outside the timings
CP="$ROOT/target/classes:$(cat "$ROOT/target/runtime-classpath.txt")"

echo "reference run (uninterrupted) in $WORK/ref" >&2
start=$(date +%s.%N)
"$NPID4J" "${ARGS[@]}" config.CHECKPOINT.DIR="$WORK/ref" > "$WORK/ref.log" 2>&1
ref_seconds=$(echo "$(date +%s.%N) - $start" | bc)
echo "reference: ${ref_seconds}s" >&2

# global step reached by a run, from its progress lines ("epoch E/3 step S/24")
last_step() {
  grep -o 'epoch [0-9]*/[0-9]* step [0-9]*/' "$1" | tail -1 | sed -E 's|epoch ([0-9]+)/[0-9]+ step ([0-9]+)/|\1 \2|' \
    | awk -v n=$STEPS_PER_EPOCH '{ g = ($1 - 1) * n + $2 } END { print g + 0 }'
}

# global step of the newest phase/iteration checkpoint in $1 (0 if none)
newest() {
  ls "$1" 2>/dev/null | sed -n 's/^model_iteration\([0-9]*\)\.torch$/\1/p; s/^model_phase\([0-9]*\)\.torch$/P\1/p' \
    | awk -v n=$STEPS_PER_EPOCH '/^P/ { v = (substr($0, 2) + 1) * n } !/^P/ { v = $0 } v > m { m = v } END { print m + 0 }'
}

kills=0; during_write=0; redone_total=0; identical=0; endings=0; trial=0
while [ "$trial" -lt "$TRIALS" ] || [ "$kills" -lt "$KILLS" ]; do
  trial=$((trial + 1)); dir="$WORK/run$trial"; attempt=0; trial_kills=0
  while [ ! -e "$dir/$FINAL" ]; do
    attempt=$((attempt + 1)); log="$dir.attempt$attempt.log"
    start_from=$(newest "$dir" || true)
    "$NPID4J" "${ARGS[@]}" config.CHECKPOINT.DIR="$dir" > "$log" 2>&1 &
    pid=$!
    if [ "$trial_kills" -lt 5 ] && [ "$kills" -lt "$KILLS" ]; then
      if [ $(( (kills + 1) % 4 )) -eq 0 ]; then
        # kill while a checkpoint is being written: wait for a temp file to appear
        until compgen -G "$dir/.model_*.tmp-*" >/dev/null || ! kill -0 $pid 2>/dev/null; do sleep 0.002; done
        mid_write=1
      else
        # a random moment within the work left (a resumed run has less to do)
        done_before=$(last_step "$dir.attempt$((attempt - 1)).log" 2>/dev/null || true)
        left=$(awk -v d="${done_before:-0}" -v t=$((3 * STEPS_PER_EPOCH)) \
          -v s="$ref_seconds" 'BEGIN { printf "%.2f", s * (t - d) / t }')
        sleep "$(awk -v r=$RANDOM -v max="$left" 'BEGIN { printf "%.2f", 1 + r / 32767 * max }')"
        mid_write=0
      fi
      if kill -9 $pid 2>/dev/null; then
        wait $pid 2>/dev/null || true
        if [ ! -e "$dir/$FINAL" ]; then  # a kill after the run had finished does not count
          kills=$((kills + 1)); trial_kills=$((trial_kills + 1)); during_write=$((during_write + mid_write))
          done_steps=$(last_step "$log" || true)
          [ "$start_from" -gt "${done_steps:-0}" ] && done_steps=$start_from  # killed before its first progress line
          next=$(newest "$dir" || true)  # the next attempt resumes here; the work redone is what was lost
          redone_total=$((redone_total + done_steps - next))
          echo "run $trial kill $trial_kills$([ $mid_write = 1 ] && echo ' (during a checkpoint write)'): at global step $done_steps, resumable from $next" >&2
        fi
      else
        wait $pid 2>/dev/null || true
      fi
    else
      wait $pid
    fi
  done
  endings=$((endings + 1))
  if java -cp "$CP" dev.npid4j.engine.CheckpointCompare "$WORK/ref/$FINAL" "$dir/$FINAL" >&2; then
    identical=$((identical + 1))
  fi
done

# SIGTERM: a checkpoint at the next step boundary and exit code 0
dir="$WORK/sigterm"
"$NPID4J" "${ARGS[@]}" config.CHECKPOINT.DIR="$dir" > "$WORK/sigterm.log" 2>&1 &
pid=$!
until grep -q "step 10/" "$WORK/sigterm.log" 2>/dev/null; do sleep 0.2; done
t0=$(date +%s.%N); kill -TERM $pid; set +e; wait $pid; code=$?; set -e
term_seconds=$(echo "$(date +%s.%N) - $t0" | bc)
term_ck=$(grep -o "after writing [a-z_0-9]*.torch" "$WORK/sigterm.log" | head -1 | sed 's/after writing //')

mean_redone=$(awk -v t=$redone_total -v k=$kills 'BEGIN { printf "%.2f", k ? t / k : 0 }')
cat <<JSON
{"kills": $kills, "kills_during_checkpoint_write": $during_write, "runs_finished": $endings, "bitwise_identical": $identical, "mean_steps_redone_per_kill": $mean_redone, "checkpoint_every_steps": 4, "reference_seconds": $ref_seconds, "sigterm_exit_code": $code, "sigterm_seconds_to_exit": $term_seconds, "sigterm_checkpoint": "$term_ck", "work_dir": "$WORK"}
JSON
