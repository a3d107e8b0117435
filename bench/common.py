"""Shared helpers for the PyTorch reference benchmarks: threads, environment, one JSON line."""
import json
import os
import platform
import resource
import sys

import torch
import torch.nn.functional as F


def setup(threads):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def emit(figures, threads):
    out = dict(figures)
    out.update({
        "impl": "pytorch",
        "threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    })
    print(json.dumps(out))
    sys.stdout.flush()


class VisslNce:
    """VISSL's nce_loss_with_memory as VISSL computes it (vissl/losses/nce_loss.py): index_select of
    B x (K+1) bank rows (the positive first), bmm, exp(./T), Z from the first batch, the NCE
    criterion; then the momentum update of the positives' rows with index_copy_."""

    def __init__(self, memory, negatives, temperature=0.07, eps=1e-7):
        self.memory, self.K, self.T, self.eps, self.Z = memory, negatives, temperature, eps, None

    def loss(self, e, y):
        N, D = self.memory.shape
        B, K = e.size(0), self.K
        idx = torch.randint(0, N, (B, K + 1))
        idx.select(1, 0).copy_(y)
        weights = torch.index_select(self.memory, 0, idx.view(-1)).detach().view(B, K + 1, D)
        out = torch.exp(torch.bmm(weights, e.view(B, D, 1)).squeeze(2) / self.T)
        if self.Z is None:
            self.Z = (out.mean() * N).item()
        out = out / self.Z
        Pn = 1.0 / N
        Pmt = out.select(1, 0)
        lnPmt = torch.log(Pmt / (Pmt + K * Pn + self.eps))
        Pon = out.narrow(1, 1, K)
        lnPon = torch.log((K * Pn) / (Pon + K * Pn + self.eps))
        return -(lnPmt.sum() + lnPon.sum()) / B

    def update(self, e, y, momentum):
        with torch.no_grad():
            pos = torch.index_select(self.memory, 0, y).mul_(momentum).add_(e.detach() * (1 - momentum))
            self.memory.index_copy_(0, y, F.normalize(pos, dim=1))
