"""PyTorch side of CheckpointInPyTorchTest: no npid4j code, only torch.

Loads an npid4j checkpoint with torch.load(weights_only=True), PyTorch's loader that builds only
tensors and plain containers, and prints what it holds as JSON for the test to compare.
"""
import json
import sys

import torch

ck = torch.load(sys.argv[1], weights_only=True)
model = ck["model"]
print(json.dumps({
    "format": ck["format"],
    "epoch": ck["epoch"], "step_in_epoch": ck["step_in_epoch"], "iteration": ck["iteration"],
    "model_tensors": len(model),
    "model_sum": float(sum(v.double().sum() for v in model.values() if v.is_floating_point())),
    "memory_shape": list(ck["loss"]["memory"].shape),
    "memory_sum": float(ck["loss"]["memory"].double().sum()),
    "Z": float(ck["loss"]["Z"]),
    "momentum_buffers": sum(1 for b in ck["optimizer"]["momentum_buffers"] if b is not None),
    "rng_state_bytes": ck["rng_state"].numel(),
    "meta_keys": sorted(json.loads(ck["meta"]).keys()),
}))
