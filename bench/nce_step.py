"""VISSL's nce_loss_with_memory step as VISSL computes it (vissl/losses/nce_loss.py): index_select
of B x (K+1) bank rows, bmm, exp(./T), Z from the first batch, NCE criterion, backward to the
embedding, then the momentum update of the positives with index_copy_.

python3 bench/nce_step.py --n 1281167 --dim 128 --batch 256 --negatives 4096 --iters 10 --threads 2
"""
import argparse
import time

import torch
import torch.nn.functional as F

import common

p = argparse.ArgumentParser()
p.add_argument("--n", type=int, default=1281167)
p.add_argument("--dim", type=int, default=128)
p.add_argument("--batch", type=int, default=256)
p.add_argument("--negatives", type=int, default=4096)
p.add_argument("--iters", type=int, default=10)
p.add_argument("--warmup", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
common.setup(a.threads)

N, D, B, K, T, m = a.n, a.dim, a.batch, a.negatives, 0.07, 0.5
nce = common.VisslNce(F.normalize(torch.randn(N, D), dim=1), K, T)


def step(emb, y):
    e = F.normalize(emb, dim=1)
    loss = nce.loss(e, y)
    loss.backward()
    nce.update(e, y, m)
    return loss.item()


times = []
for it in range(a.warmup + a.iters):
    emb = torch.randn(B, D, requires_grad=True)
    y = torch.randint(0, N, (B,))
    t0 = time.perf_counter()
    step(emb, y)
    dt = time.perf_counter() - t0
    if it >= a.warmup:
        times.append(dt)
times.sort()
common.emit({"bench": "loss", "n": N, "dim": D, "batch": B, "negatives": K, "iters": a.iters,
             "ms_per_step": 1000 * times[len(times) // 2], "ms_per_step_mean": 1000 * sum(times) / len(times)}, a.threads)
