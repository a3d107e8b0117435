#!/usr/bin/env bash
# npid4j next to PyTorch on the same machine, back to back, same thread count: prints each pair's
# JSON lines, then a table of speedups (npid4j / PyTorch; above 1 means npid4j is faster) and one
# JSON summary line. Needs Debian's python3-torch and python3-torchvision.
#   bench/compare.sh                  # everything (about 15 minutes on 2 cores)
#   ONLY="loss knn" bench/compare.sh  # a subset: train loss epoch knn data
#   ALLOC=jemalloc bench/compare.sh   # both sides on jemalloc instead of glibc (see below)
#   REPEAT=3 bench/compare.sh         # every pair 3 times, interleaved (the order of the two sides
#                                     # alternates); the table gives each figure's median and the
#                                     # median of the per-repeat speedups, with their range
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${NPID4J_PYTHON:-/usr/bin/python3}"
NJ="$ROOT/bin/npid4j"
T="${THREADS:-2}"
ONLY="${ONLY:-train loss epoch knn data}"
EPOCH_IMAGES="${EPOCH_IMAGES:-60000}"
REPEAT="${REPEAT:-1}"
OUT="${OUT:-$(mktemp -d /tmp/npid4j-compare.XXXXXX)}"
mkdir -p "$OUT"
# bin/npid4j's native settings (OpenMP, OpenBLAS, glibc's malloc) for both sides, so neither wins
# by page faults or spinning threads alone (without the malloc ones PyTorch's NCE step is ~7x
# slower here). FAIR=0 leaves glibc's malloc settings at their defaults.
. "$ROOT/bin/native-env.sh"
if [ "${FAIR:-1}" != 1 ]; then
  unset MALLOC_MMAP_THRESHOLD_ MALLOC_TRIM_THRESHOLD_ MALLOC_TOP_PAD_ MALLOC_ARENA_MAX
fi
# Both sides on one allocator: ALLOC=glibc (the default: glibc with the settings above;
# bin/npid4j is told NPID4J_MALLOC=glibc) or ALLOC=jemalloc (what bin/npid4j uses by itself where
# the machine has libjemalloc2; PyTorch then gets it by LD_PRELOAD). jemalloc made both ResNet-50
# steps about 12% faster here, and PyTorch's NCE step at B=256, K=4096 1.5-2x slower (146-204 ->
# 294-306 ms), so the default compares on glibc.
ALLOC="${ALLOC:-glibc}"
export NPID4J_MALLOC="$ALLOC"
PY_PRELOAD=()
if [ "$ALLOC" = jemalloc ] && [ "${FAIR:-1}" = 1 ]; then
  JEMALLOC="$(jemalloc_path)"
  [ -n "$JEMALLOC" ] || { echo "compare.sh: ALLOC=jemalloc needs libjemalloc2 (apt-get install libjemalloc2)" >&2; exit 2; }
  PY_PRELOAD=(env "LD_PRELOAD=$JEMALLOC${LD_PRELOAD:+:$LD_PRELOAD}"
    "MALLOC_CONF=${MALLOC_CONF:-$JEMALLOC_CONF_DEFAULT}")
fi
"$PY" -c 'import torch, torchvision' || { echo "compare.sh: $PY cannot import torch/torchvision: apt-get install python3-torch python3-torchvision" >&2; exit 2; }
"$NJ" --version >/dev/null   # build first, outside the timings

pair() { # name, npid4j args..., --, python args...
  local name="$1"; shift
  local nj=() py=()
  while [ "$1" != "--" ]; do nj+=("$1"); shift; done; shift
  py=("$@")
  local f="$OUT/$name.r$rep"
  echo "== $name (repeat $rep of $REPEAT)" >&2
  run_npid4j() { "$NJ" bench "${nj[@]}" --threads "$T" 2>"$f.npid4j.log" | tail -1 | tee "$f.npid4j.json"; }
  run_pytorch() { (cd "$ROOT/bench" && "${PY_PRELOAD[@]}" "$PY" "${py[@]}" --threads "$T") 2>"$f.pytorch.log" | tail -1 | tee "$f.pytorch.json"; }
  # a slow spell of the shared host should not always land on the same side
  if [ $((rep % 2)) = 1 ]; then run_npid4j; run_pytorch; else run_pytorch; run_npid4j; fi
}

for rep in $(seq 1 "$REPEAT"); do
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
      # VISSL's maths, as the PyTorch reference does it: the quickstart's fast modes off
      pair quickstart_epoch train config=quickstart/npid_fashion_mnist config.MODEL.AMP_PARAMS.USE_AMP=false \
        config.LOSS.nce_loss_with_memory.negative_sampling_params.type=random --steps "$steps" --warmup 1 \
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
done

"$PY" - "$OUT" <<'PYEOF'
import json, os, statistics, sys
out = sys.argv[1]
runs = {}  # name -> [(npid4j json, pytorch json)] over the repeats
for f in sorted(os.listdir(out)):
    if f.endswith(".npid4j.json"):
        stem = f[: -len(".npid4j.json")]
        try:
            a = json.load(open(f"{out}/{stem}.npid4j.json"))
            b = json.load(open(f"{out}/{stem}.pytorch.json"))
        except (OSError, ValueError):
            continue
        runs.setdefault(stem.rsplit(".r", 1)[0], []).append((a, b))
rows, summary = [], {}
for name, pairs in sorted(runs.items()):
    a0 = pairs[0][0]
    if "img_per_s" in a0:
        metric, key, higher_better = "img/s", "img_per_s", True
    elif "ms_per_step" in a0:
        metric, key, higher_better = "ms/step", "ms_per_step", False
    else:
        metric, key, higher_better = "seconds", "seconds", False
    xs = [a[key] for a, _ in pairs]
    ys = [b[key] for _, b in pairs]
    speedups = [x / y if higher_better else y / x for x, y in zip(xs, ys)]
    rss_a = max(a.get("peak_rss_mb") or 0 for a, _ in pairs)
    rss_b = max(b.get("peak_rss_mb") or 0 for _, b in pairs)
    rows.append((name, metric, statistics.median(xs), statistics.median(ys), statistics.median(speedups),
                 min(speedups), max(speedups), rss_a, rss_b))
    summary[name] = {"metric": metric, "npid4j": statistics.median(xs), "pytorch": statistics.median(ys),
                     "speedup": statistics.median(speedups), "speedups": speedups, "repeats": len(pairs),
                     "npid4j_peak_rss_mb": rss_a, "pytorch_peak_rss_mb": rss_b}
print(f"{'benchmark':18} {'metric':8} {'npid4j':>10} {'pytorch':>10} {'speedup':>8} {'range':>13} {'rss npid4j':>11} {'rss pytorch':>12}", file=sys.stderr)
for r in rows:
    print(f"{r[0]:18} {r[1]:8} {r[2]:10.2f} {r[3]:10.2f} {r[4]:7.2f}x {r[5]:5.2f}-{r[6]:5.2f}x {r[7]:9.0f}MB {r[8]:10.0f}MB", file=sys.stderr)
print(json.dumps({"compare": summary, "results_dir": out}))
PYEOF
