"""One ResNet-50 (torchvision) training step at 224x224, batch 32: forward, a linear 2048->128
head, loss, backward, SGD with momentum, as npid4j's `bench train` does with synthetic data
(npid4j's step also runs the NCE loss on a small bank; its cost is measured separately).

python3 bench/resnet50_step.py --batch 32 --steps 5 --threads 2
"""
import argparse
import time

import torch
import torchvision

import common

p = argparse.ArgumentParser()
p.add_argument("--batch", type=int, default=32)
p.add_argument("--size", type=int, default=224)
p.add_argument("--steps", type=int, default=5)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
common.setup(a.threads)

model = torchvision.models.resnet50()
model.fc = torch.nn.Linear(2048, 128)
model.train()
opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=1e-4)
x = torch.randn(a.batch, 3, a.size, a.size)
times = []
for it in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    out = torch.nn.functional.normalize(model(x), dim=1)
    loss = -out.sum(1).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    dt = time.perf_counter() - t0
    if it >= a.warmup:
        times.append(dt)
sec = sum(times) / len(times)
common.emit({"bench": "train", "model": "resnet50", "batch": a.batch, "size": a.size, "steps": a.steps,
             "seconds_per_step": sec, "img_per_s": a.batch / sec}, a.threads)
