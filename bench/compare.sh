#!/usr/bin/env bash
# npid4j next to PyTorch on the same machine, back to back, same thread count: prints each pair's
# JSON lines, then a table of speedups (npid4j / PyTorch; above 1 means npid4j is faster) and one
# JSON summary line. Needs Debian's python3-torch and python3-torchvision.
#   bench/compare.sh                  # everything (about 15 minutes on 2 cores)
#   ONLY="loss knn" bench/compare.sh  # a subset: train loss epoch knn data
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${NPID4J_PYTHON:-/usr/bin/python3}"
NJ="$ROOT/bin/npid4j"
T="${THREADS:-2}"
ONLY="${ONLY:-train loss epoch knn data}"
EPOCH_IMAGES="${EPOCH_IMAGES:-60000}"
OUT="${OUT:-$(mktemp -d /tmp/npid4j-compare.XXXXXX)}"
mkdir -p "$OUT"
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_THREAD_TIMEOUT="${OPENBLAS_THREAD_TIMEOUT:-4}"  # as bin/npid4j; Debian's PyTorch uses the reference BLAS, which has no threads
# The allocator settings bin/npid4j uses (keep freed memory in the heap) apply to PyTorch too, so
# neither side wins by page faults alone: without them PyTorch's NCE step is ~7x slower here.
# FAIR=0 runs PyTorch with glibc's defaults instead.
if [ "${FAIR:-1}" = 1 ]; then
  export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-4294967296}"
  export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-17179869184}"
  export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-1073741824}"
  export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-1}"
fi
"$PY" -c 'import torch, torchvision' || { echo "compare.sh: $PY cannot import torch/torchvision: apt-get install python3-torch python3-torchvision" >&2; exit 2; }
"$NJ" --version >/dev/null   # build first, outside the timings

pair() { # name, npid4j args..., --, python args...
  local name="$1"; shift
  local nj=() py=()
  while [ "$1" != "--" ]; do nj+=("$1"); shift; done; shift
  py=("$@")
  echo "== $name" >&2
  "$NJ" bench "${nj[@]}" --threads "$T" 2>"$OUT/$name.npid4j.log" | tail -1 | tee "$OUT/$name.npid4j.json"
  (cd "$ROOT/bench" && "$PY" "${py[@]}" --threads "$T") 2>"$OUT/$name.pytorch.log" | tail -1 | tee "$OUT/$name.pytorch.json"
}

for what in $ONLY; do
  case "$what" in
    train)
      pair resnet50_step train config=pretrain/npid/npid_8gpu_resnet config.MACHINE.DEVICE=cpu \
        config.DISTRIBUTED.NUM_PROC_PER_NODE=1 'config.DATA.TRAIN.DATA_SOURCES=[synthetic]' \
        config.DATA.TRAIN.BATCHSIZE_PER_REPLICA=32 'config.DATA.TRAIN.TRANSFORMS=[{name: ToTensor}]' \
        config.DATA.NUM_DATALOADER_WORKERS=1 --steps 8 --warmup 3 \
        -- resnet50_step.py --batch 32 --steps 5 --warmup 3 ;;
    loss)
      pair nce_npid loss --n 1281167 --dim 128 --batch 256 --negatives 4096 --iters 10 \
        -- nce_step.py --n 1281167 --dim 128 --batch 256 --negatives 4096 --iters 10
      pair nce_npidpp loss --n 1281167 --dim 128 --batch 32 --negatives 32000 --iters 10 \
        -- nce_step.py --n 1281167 --dim 128 --batch 32 --negatives 32000 --iters 10 ;;
    epoch)
      steps=$(( (EPOCH_IMAGES + 127) / 128 ))
      pair quickstart_epoch train config=quickstart/npid_fashion_mnist --steps "$steps" --warmup 1 \
        -- npid_epoch.py --limit "$EPOCH_IMAGES" --workers 2 ;;
    data)
      JPEGS="${JPEGS:-/tmp/npid4j-jpegs}"
      [ -d "$JPEGS" ] || (cd "$ROOT/bench" && "$PY" data_pipeline.py --make-jpegs "$JPEGS") >&2
      pair data data config=pretrain/npid/npid_8gpu_resnet config.MACHINE.DEVICE=cpu "config.DATA.TRAIN.DATA_PATHS=[$JPEGS]" \
        --images "${DATA_IMAGES:-2400}" -- data_pipeline.py --root "$JPEGS" --images "${DATA_IMAGES:-2400}" ;;
    knn)
      pair knn knn --train 60000 --test 10000 --dim 128 --k 200 \
        -- knn.py --train 60000 --test 10000 --dim 128 --k 200 ;;
    *) echo "compare.sh: unknown benchmark '$what' (train loss epoch knn data)" >&2; exit 2 ;;
  esac
done

"$PY" - "$OUT" <<'PYEOF'
import json, os, sys
out = sys.argv[1]
rows, summary = [], {}
for name in sorted({f.split(".")[0] for f in os.listdir(out) if f.endswith(".json")}):
    try:
        a = json.load(open(f"{out}/{name}.npid4j.json"))
        b = json.load(open(f"{out}/{name}.pytorch.json"))
    except (OSError, ValueError):
        continue
    if "img_per_s" in a:
        metric, x, y, speedup = "img/s", a["img_per_s"], b["img_per_s"], a["img_per_s"] / b["img_per_s"]
    elif "ms_per_step" in a:
        metric, x, y, speedup = "ms/step", a["ms_per_step"], b["ms_per_step"], b["ms_per_step"] / a["ms_per_step"]
    else:
        metric, x, y, speedup = "seconds", a["seconds"], b["seconds"], b["seconds"] / a["seconds"]
    rows.append((name, metric, x, y, speedup, a.get("peak_rss_mb"), b.get("peak_rss_mb")))
    summary[name] = {"metric": metric, "npid4j": x, "pytorch": y, "speedup": speedup,
                     "npid4j_peak_rss_mb": a.get("peak_rss_mb"), "pytorch_peak_rss_mb": b.get("peak_rss_mb")}
print(f"{'benchmark':18} {'metric':8} {'npid4j':>10} {'pytorch':>10} {'speedup':>8} {'rss npid4j':>11} {'rss pytorch':>12}", file=sys.stderr)
for r in rows:
    print(f"{r[0]:18} {r[1]:8} {r[2]:10.2f} {r[3]:10.2f} {r[4]:7.2f}x {r[5]:9.0f}MB {r[6]:10.0f}MB", file=sys.stderr)
print(json.dumps({"compare": summary, "results_dir": out}))
PYEOF
