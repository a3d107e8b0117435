"""Shared helpers for the PyTorch reference benchmarks: threads, environment, one JSON line."""
import json
import os
import platform
import resource
import sys

import torch


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
