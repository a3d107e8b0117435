"""PyTorch side of ExportRoundTripTest: no npid4j code, only torch, torchvision and numpy.

1. Loads npid4j's torchvision export into torchvision's resnet18 (strict=False must miss only
   fc.*) and npid4j's VISSL export, both with weights_only=True (PyTorch's safe loader) (trunk + linear head), runs the same input, saves the outputs.
2. Writes a randomly initialised torchvision resnet18 (random BN statistics) with torch.save in
   the zip format, in the legacy format, and in VISSL's layout with a linear head, plus its
   outputs on the same input, for npid4j to load and compare.
"""
import json
import sys

import numpy as np
import torch
import torchvision

d = sys.argv[1]
torch.set_num_threads(2)
x = torch.from_numpy(np.load(d + "/input.npy"))


def no_fc(m):
    m.fc = torch.nn.Identity()
    return m.eval()


# 1. npid4j -> PyTorch
m = torchvision.models.resnet18()
res = m.load_state_dict(torch.load(d + "/tv.pth", weights_only=True), strict=False)
assert sorted(res.missing_keys) == ["fc.bias", "fc.weight"], res.missing_keys
assert not res.unexpected_keys, res.unexpected_keys
with torch.no_grad():
    np.save(d + "/py_from_tv.npy", no_fc(m)(x).numpy())

ck = torch.load(d + "/vissl.torch", weights_only=True)
model = ck["classy_state_dict"]["base_model"]["model"]
trunk = {k[len("_feature_blocks."):]: v for k, v in model["trunk"].items()}
m2 = torchvision.models.resnet18()
res2 = m2.load_state_dict(trunk, strict=False)
assert sorted(res2.missing_keys) == ["fc.bias", "fc.weight"], res2.missing_keys
m2.fc = torch.nn.Linear(512, 128)
m2.fc.load_state_dict({"weight": model["heads"]["0.clf.0.weight"], "bias": model["heads"]["0.clf.0.bias"]})
with torch.no_grad():
    np.save(d + "/py_from_vissl.npy", m2.eval()(x).numpy())

# 2. PyTorch -> npid4j
torch.manual_seed(1)
m3 = torchvision.models.resnet18()
for mod in m3.modules():
    if isinstance(mod, torch.nn.BatchNorm2d):
        mod.running_mean.uniform_(-0.2, 0.2)
        mod.running_var.uniform_(0.5, 1.5)
        mod.weight.data.uniform_(0.5, 1.5)
        mod.bias.data.uniform_(-0.2, 0.2)
torch.save(m3.state_dict(), d + "/pt.pth")
torch.save(m3.state_dict(), d + "/pt_legacy.pth", _use_new_zipfile_serialization=False)
head = torch.nn.Linear(512, 128)
vissl = {"classy_state_dict": {"train": True, "base_model": {"model": {
    "trunk": {"_feature_blocks." + k: v for k, v in m3.state_dict().items() if not k.startswith("fc.")},
    "heads": {"0.clf.0.weight": head.weight.data, "0.clf.0.bias": head.bias.data}}, "meta": {}}},
    "phase_idx": 3, "type": "consolidated"}
torch.save(vissl, d + "/py_vissl.torch")
with torch.no_grad():
    feats = no_fc(m3)(x)
    np.save(d + "/py_trunk.npy", feats.numpy())
    np.save(d + "/py_head.npy", head(feats).numpy())
print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__}))
