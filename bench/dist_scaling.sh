#!/usr/bin/env bash
# Data-parallel scaling on one machine: the same global batch trained by 1 rank x 2 threads and
# by 2 ranks x 1 thread (c10d Gloo over loopback), for the quickstart model and for ResNet-50.
# Prints one JSON line per run (img/s, all-reduce share of the training time) and a summary line
# with the ratios. Figures come from the runs' own metrics.jsonl epoch records.
#   bench/dist_scaling.sh                # both models (about 6 minutes on 2 cores)
#   ONLY=quickstart bench/dist_scaling.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
NJ="$ROOT/bin/npid4j"
ONLY="${ONLY:-quickstart resnet50}"
OUT="${OUT:-$(mktemp -d /tmp/npid4j-dist.XXXXXX)}"
mkdir -p "$OUT"
"$NJ" --version >/dev/null   # build first, outside the timings

run() { # name ranks threads per-rank-batch config args...
  local name="$1" ranks="$2" threads="$3" batch="$4"; shift 4
  local dir="$OUT/$name"
  rm -rf "$dir"
  "$NJ" train "$@" config.CHECKPOINT.DIR="$dir" config.KNN_MONITOR.FREQUENCY=-1 config.OPTIMIZER.num_epochs=1 \
    config.DISTRIBUTED.NUM_PROC_PER_NODE="$ranks" config.MACHINE.NUM_THREADS="$threads" \
    config.DATA.TRAIN.BATCHSIZE_PER_REPLICA="$batch" >"$OUT/$name.log" 2>&1
  python3 - "$dir/metrics.jsonl" "$name" "$ranks" "$threads" "$batch" <<'PY'
import json, sys
path, name, ranks, threads, batch = sys.argv[1:]
epoch = [json.loads(l) for l in open(path) if '"type":"epoch"' in l.replace(' ', '')][-1]
print(json.dumps({"run": name, "ranks": int(ranks), "threads_per_rank": int(threads), "batch_per_rank": int(batch),
                  "img_per_s": round(epoch["img_per_s"], 2), "seconds": round(epoch["seconds"], 2),
                  "allreduce_share": round(epoch.get("allreduce_share", 0.0), 4)}))
PY
}

for what in $ONLY; do
  case "$what" in
    quickstart)
      QS=(config=quickstart/npid_fashion_mnist config.DATA.TRAIN.DATA_LIMIT="${QS_IMAGES:-7680}")
      run qs-1x2 1 2 256 "${QS[@]}" | tee "$OUT/qs-1x2.json"
      run qs-2x1 2 1 128 "${QS[@]}" | tee "$OUT/qs-2x1.json"
      # the machine's own ceiling for two processes: two independent 1-thread runs at once, no communication
      run qs-solo-a 1 1 128 "${QS[@]}" > "$OUT/qs-solo-a.json" & run qs-solo-b 1 1 128 "${QS[@]}" > "$OUT/qs-solo-b.json"; wait
      cat "$OUT/qs-solo-a.json" "$OUT/qs-solo-b.json" ;;
    resnet50)
      RN=(config=pretrain/npid/npid_8gpu_resnet config.MACHINE.DEVICE=cpu config.DATA.TRAIN.DATA_SOURCES=[synthetic]
          config.DATA.TRAIN.DATA_LIMIT="${RN_IMAGES:-64}" config.DATA.TRAIN.DEFAULT_GRAY_IMG_SIZE=256 config.DATA.TEST.DATA_SOURCES=[]
          config.OPTIMIZER.param_schedulers.lr.name=constant)
      run rn50-1x2 1 2 16 "${RN[@]}" | tee "$OUT/rn50-1x2.json"
      run rn50-2x1 2 1 8 "${RN[@]}" | tee "$OUT/rn50-2x1.json" ;;
  esac
done
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(n):
    p = os.path.join(out, n + ".json")
    return json.load(open(p)) if os.path.exists(p) else None
summary = {}
for model, a, b in (("quickstart", "qs-1x2", "qs-2x1"), ("resnet50", "rn50-1x2", "rn50-2x1")):
    x, y = load(a), load(b)
    if x and y:
        summary[model] = {"img_per_s_1rank_x2threads": x["img_per_s"], "img_per_s_2ranks_x1thread": y["img_per_s"],
                          "ratio_2ranks_over_1rank": round(y["img_per_s"] / x["img_per_s"], 3),
                          "allreduce_share_2ranks": y["allreduce_share"]}
a, b = load("qs-solo-a"), load("qs-solo-b")
if a and b and "quickstart" in summary:
    summary["quickstart"]["img_per_s_2_independent_1thread_processes"] = round(a["img_per_s"] + b["img_per_s"], 2)
print(json.dumps({"dist_scaling": summary, "logs": out}))
PY
