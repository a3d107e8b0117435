"""The Fashion-MNIST quickstart epoch in plain PyTorch, as the original NPID code would run it:
a torch DataLoader (PIL images, torchvision transforms, NUM workers) feeding a CIFAR-style
ResNet-18 (3x3 stem, no max-pool, 1 input channel, base width 16) + Linear(128, 128), the
memory-bank loss of the quickstart (InfoNCE over K=4096 random bank rows, T=0.07, momentum
0.5, computed as VISSL does: index_select + bmm), SGD (lr 0.03, momentum 0.9, wd 5e-4).

python3 bench/npid_epoch.py --limit 60000 --workers 2 --threads 2
"""
import argparse
import gzip
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.transforms as T
from PIL import Image

import common

p = argparse.ArgumentParser()
p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
p.add_argument("--limit", type=int, default=60000)
p.add_argument("--batch", type=int, default=128)
p.add_argument("--workers", type=int, default=2)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--negatives", type=int, default=4096)
a = p.parse_args()
common.setup(a.threads)


def read_images(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[4:8], "big")
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 28, 28)


class FashionMnist(torch.utils.data.Dataset):
    def __init__(self, images, transform):
        self.images, self.transform = images, transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i], mode="L")), i


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.down is None else self.down(x)))


class Net(nn.Module):
    def __init__(self, width=16):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        layers, cin = [], width
        for i, stride in enumerate([1, 2, 2, 2]):
            cout = width << i
            layers += [Block(cin, cout, stride), Block(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.head = nn.Linear(cin, 128)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


images = read_images(a.data + "/train-images-idx3-ubyte.gz")[: a.limit]
transform = T.Compose([T.RandomResizedCrop(28, scale=(0.2, 1.0)), T.RandomHorizontalFlip(), T.ToTensor(),
                       T.Normalize((0.2860,), (0.3530,))])
loader = torch.utils.data.DataLoader(FashionMnist(images, transform), batch_size=a.batch, shuffle=True,
                                     num_workers=a.workers, persistent_workers=False)
N, D, K, Tm, m = len(images), 128, a.negatives, 0.07, 0.5
memory = F.normalize(torch.randn(N, D), dim=1)
model = Net()
opt = torch.optim.SGD(model.parameters(), lr=0.03, momentum=0.9, weight_decay=5e-4)
model.train()
t0 = time.perf_counter()
seen = 0
for x, y in loader:
    B = x.size(0)
    e = F.normalize(model(x), dim=1)
    idx = torch.randint(0, N, (B, K + 1))
    idx.select(1, 0).copy_(y)
    w = torch.index_select(memory, 0, idx.view(-1)).view(B, K + 1, D)
    logits = torch.bmm(w, e.view(B, D, 1)).squeeze(2) / Tm
    loss = F.cross_entropy(logits, torch.zeros(B, dtype=torch.long))
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        pos = torch.index_select(memory, 0, y).mul_(m).add_(e.detach() * (1 - m))
        memory.index_copy_(0, y, F.normalize(pos, dim=1))
    seen += B
seconds = time.perf_counter() - t0
common.emit({"bench": "npid_epoch", "images": seen, "seconds": seconds, "img_per_s": seen / seconds, "workers": a.workers,
             "loss_last": loss.item()}, a.threads)
