"""One NPID training step of VISSL's npid_8gpu_resnet on one replica, in plain PyTorch, doing the
work npid4j's `bench train` does for that config with synthetic data: a DataLoader with one
worker making 224x224 synthetic images (a class prototype plus per-image noise), the torchvision
ResNet-50 trunk with VISSL's linear 2048->128 head, L2 normalisation, VISSL's
nce_loss_with_memory (K random bank rows per sample gathered with index_select, bmm, exp(./T),
Z from the first batch, NCE criterion), backward, SGD (momentum 0.9, weight decay 1e-4, none on
BatchNorm as regularize_bn: false), then the momentum update of the positives' bank rows.
The bank holds one row per image of the run, as in `bench train` (DATA_LIMIT = steps x batch).

python3 bench/resnet50_step.py --batch 32 --steps 5 --warmup 3 --threads 2
"""
import argparse
import time

import torch
import torch.nn.functional as F
import torchvision

import common

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=32)
p.add_argument("--size", type=int, default=224)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--negatives", type=int, default=4096)
p.add_argument("--workers", type=int, default=1)
a = p.parse_args()
common.setup(a.threads)

B, K, T, m, D = a.batch, a.negatives, 0.07, 0.5, 128
N = (a.warmup + a.steps) * B


class Synthetic(torch.utils.data.Dataset):
    """Image i: the prototype of class i mod 10 plus Gaussian noise (made in the loader worker)."""

    def __init__(self, n, size):
        g = torch.Generator().manual_seed(0)
        self.n, self.size = n, size
        self.prototypes = torch.rand(10, 3, size, size, generator=g)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return self.prototypes[i % 10] + 0.2 * torch.randn(3, self.size, self.size, generator=g), i


loader = torch.utils.data.DataLoader(Synthetic(N, a.size), batch_size=B, shuffle=True, drop_last=True,
                                     num_workers=a.workers)
model = torchvision.models.resnet50()
model.fc = torch.nn.Linear(2048, D)
model.train()
bn = [q for mod in model.modules() if isinstance(mod, torch.nn.BatchNorm2d) for q in mod.parameters(recurse=False)]
bn_ids = {id(q) for q in bn}
rest = [q for q in model.parameters() if id(q) not in bn_ids]
opt = torch.optim.SGD([{"params": rest}, {"params": bn, "weight_decay": 0.0}], lr=0.01, momentum=0.9,
                      weight_decay=1e-4)
nce = common.VisslNce(F.normalize(torch.randn(N, D), dim=1), K, T)

times = []
it = 0
t0 = time.perf_counter()
for x, y in loader:  # the batch's loading wait is part of the step, as in npid4j's timing
    e = F.normalize(model(x), dim=1)
    loss = nce.loss(e, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    nce.update(e, y, m)
    loss.item()
    t1 = time.perf_counter()
    if it >= a.warmup:
        times.append(t1 - t0)
    t0 = t1
    it += 1
sec = sum(times) / len(times)
common.emit({"bench": "train", "model": "resnet50", "batch": B, "size": a.size, "steps": len(times),
             "negatives": K, "bank": N, "seconds_per_step": sec, "img_per_s": B / sec}, a.threads)
