"""NPID's weighted kNN (Wu et al.'s kNN() in test.py, VISSL's nearest_neighbor_test) on random
unit vectors: chunked test x train similarities, top-k, votes exp(sim / sigma) per class.

--impl npid:  NPID's own code (one-hot matrix of chunk x k x classes, then a sum), chunks of 100
--impl tight: the tightest plain PyTorch loop: chunks sized to ~256 MB of similarities, mm,
              topk, one scatter_add_ of the votes, argmax (what npid4j's WeightedKnn computes)

python3 bench/knn.py --train 60000 --test 10000 --dim 128 --k 200 --threads 2 [--impl tight]
"""
import argparse
import time

import torch
import torch.nn.functional as F

import common

p = argparse.ArgumentParser()
p.add_argument("--train", type=int, default=60000)
p.add_argument("--test", type=int, default=10000)
p.add_argument("--dim", type=int, default=128)
p.add_argument("--k", type=int, default=200)
p.add_argument("--classes", type=int, default=10)
p.add_argument("--sigma", type=float, default=0.07)
p.add_argument("--chunk", type=int, default=100)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--impl", choices=["npid", "tight"], default="npid")
a = p.parse_args()
common.setup(a.threads)

train = F.normalize(torch.randn(a.train, a.dim), dim=1)
test = F.normalize(torch.randn(a.test, a.dim), dim=1)
train_labels = torch.randint(0, a.classes, (a.train,))
test_labels = torch.randint(0, a.classes, (a.test,))

def tight():
    chunk = max(1, min(a.test, (64 << 20) // a.train))
    correct = 0
    with torch.no_grad():
        train_t = train.t()
        for start in range(0, a.test, chunk):
            q = test[start:start + chunk]
            sims, idx = torch.mm(q, train_t).topk(a.k, dim=1)
            votes = torch.zeros(q.size(0), a.classes).scatter_add_(1, train_labels[idx], sims.div_(a.sigma).exp_())
            correct += votes.argmax(1).eq(test_labels[start:start + q.size(0)]).sum().item()
    return correct


t0 = time.perf_counter()
if a.impl == "tight":
    correct = tight()
    seconds = time.perf_counter() - t0
    common.emit({"bench": "knn", "impl_variant": "tight", "train": a.train, "test": a.test, "dim": a.dim, "k": a.k,
                 "seconds": seconds, "top1": 100.0 * correct / a.test}, a.threads)
    raise SystemExit(0)
with torch.no_grad():
    train_t = train.t().contiguous()
    correct = 0
    retrieval_one_hot = torch.zeros(a.chunk * a.k, a.classes)
    for start in range(0, a.test, a.chunk):
        q = test[start:start + a.chunk]
        n = q.size(0)
        dist = torch.mm(q, train_t)
        yd, yi = dist.topk(a.k, dim=1, largest=True, sorted=True)
        retrieval = train_labels.view(1, -1).expand(n, -1).gather(1, yi)
        one_hot = retrieval_one_hot[: n * a.k].zero_()
        one_hot.scatter_(1, retrieval.view(-1, 1), 1)
        yd_transform = yd.clone().div_(a.sigma).exp_()
        probs = torch.sum(one_hot.view(n, -1, a.classes) * yd_transform.view(n, -1, 1), 1)
        _, pred = probs.sort(1, True)
        correct += pred[:, 0].eq(test_labels[start:start + n]).sum().item()
seconds = time.perf_counter() - t0
common.emit({"bench": "knn", "train": a.train, "test": a.test, "dim": a.dim, "k": a.k, "seconds": seconds,
             "top1": 100.0 * correct / a.test}, a.threads)
