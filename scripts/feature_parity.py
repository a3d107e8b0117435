"""npid4j's features against PyTorch + Pillow + torchvision's on real images of every mode Pillow
reads, through VISSL's TEST transforms (Resize 256, CenterCrop 224, ToTensor, Normalize).

    /usr/bin/python3 scripts/feature_parity.py make /tmp/parity
        writes /tmp/parity/{train,test}/<category>/<mode>_<n>.<ext> from Debian's
        tuxpaint-stamps-default: palette PNG with and without transparency, RGBA, LA, L, I;16,
        RGB, gray and CMYK JPEG, progressive JPEG, EXIF-rotated JPEG (orientation 6)
    /usr/bin/python3 scripts/feature_parity.py compare /tmp/parity trunk.pth EVAL_DIR
        trunk.pth: `npid4j export --format torchvision`; EVAL_DIR: where `npid4j extract` wrote
        rank0_chunk0_{train,test}_res5avg_features.npy. Prints one JSON line: per-image cosine by
        mode (min, median), the stage where npid4j and PyTorch part (decode, resize, crop,
        normalise, network) for the worst image, and the kNN predictions compared.
"""
import json
import os
import sys

import numpy as np
from PIL import Image

STAMPS = "/usr/share/tuxpaint/stamps"
CATEGORIES = ["animals", "food", "plants", "vehicles"]
PER_CATEGORY = 12
MODES = ["P_trns", "P", "RGBA", "LA", "L", "I16", "RGB_jpeg", "L_jpeg", "CMYK_jpeg", "progressive_jpeg", "exif6_jpeg"]


def flat(im):
    """RGBA/LA/P to RGB on white."""
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, im).convert("RGB")


def variant(im, mode, stem):
    rgb = flat(im)
    if mode == "P_trns":
        p = im.convert("RGBA").quantize(colors=64)  # palette with a transparent entry
        p.info["transparency"] = 0
        p.save(stem + ".png", transparency=0)
    elif mode == "P":
        rgb.quantize(colors=64).save(stem + ".png")
    elif mode == "RGBA":
        im.convert("RGBA").save(stem + ".png")
    elif mode == "LA":
        im.convert("LA").save(stem + ".png")
    elif mode == "L":
        rgb.convert("L").save(stem + ".png")
    elif mode == "I16":
        g = np.asarray(rgb.convert("L"), dtype=np.uint16) * 257
        Image.fromarray(g, "I;16").save(stem + ".png")
    elif mode == "RGB_jpeg":
        rgb.save(stem + ".jpg", quality=90)
    elif mode == "L_jpeg":
        rgb.convert("L").save(stem + ".jpg", quality=90)
    elif mode == "CMYK_jpeg":
        rgb.convert("CMYK").save(stem + ".jpg", quality=90)
    elif mode == "progressive_jpeg":
        rgb.save(stem + ".jpg", quality=90, progressive=True)
    elif mode == "exif6_jpeg":
        exif = Image.Exif()
        exif[0x0112] = 6  # rotate 90 CW to display; torchvision's PIL loader ignores it
        rgb.save(stem + ".jpg", quality=90, exif=exif.tobytes())


def make(out):
    n = 0
    for cat in CATEGORIES:
        files = []
        for root, _, names in os.walk(os.path.join(STAMPS, cat)):
            files += [os.path.join(root, f) for f in names if f.endswith(".png") and "_mirror" not in f and "_flip" not in f]
        for i, src in enumerate(sorted(files)[:PER_CATEGORY]):
            split = "test" if i % 4 == 3 else "train"
            d = os.path.join(out, split, cat)
            os.makedirs(d, exist_ok=True)
            im = Image.open(src)
            im.load()
            mode = MODES[(i + CATEGORIES.index(cat)) % len(MODES)]
            variant(im, mode, os.path.join(d, "%s_%02d" % (mode, i)))
            n += 1
    print(json.dumps({"images": n, "root": out}))


def files(root, split):
    """ImageFolder's order: sorted classes, sorted files."""
    out = []
    d = os.path.join(root, split)
    classes = sorted(c for c in os.listdir(d) if os.path.isdir(os.path.join(d, c)))
    for c, name in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(d, name))):
            out.append((os.path.join(d, name, f), c))
    return out


def compare(root, weights, eval_dir):
    import torch
    import torchvision
    import torchvision.transforms as T

    torch.set_num_threads(2)
    model = torchvision.models.resnet50()
    sd = torch.load(weights, map_location="cpu")
    model.load_state_dict(sd, strict=False)
    model.fc = torch.nn.Identity()
    model.eval()
    resize, crop = T.Resize(256), T.CenterCrop(224)
    norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    feats, labels = {}, {}
    for split in ("train", "test"):
        imgs = files(root, split)
        with torch.no_grad():
            x = torch.stack([norm(T.functional.to_tensor(crop(resize(Image.open(p).convert("RGB"))))) for p, _ in imgs])
            feats[split] = model(x).numpy()
        labels[split] = np.array([c for _, c in imgs])
    ours = {s: np.load(os.path.join(eval_dir, "rank0_chunk0_%s_res5avg_features.npy" % s)).reshape(len(labels[s]), -1)
            for s in ("train", "test")}
    by_mode = {}
    worst = (2.0, None)
    for split in ("train", "test"):
        a, b = ours[split], feats[split]
        cos = (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
        for (p, _), c in zip(files(root, split), cos):
            mode = os.path.basename(p).rsplit("_", 1)[0]
            by_mode.setdefault(mode, []).append(float(c))
            if c < worst[0]:
                worst = (float(c), p)

    def knn(train, test, k=20):
        tr = train / np.linalg.norm(train, axis=1, keepdims=True)
        te = test / np.linalg.norm(test, axis=1, keepdims=True)
        sim = te @ tr.T
        top = np.argsort(-sim, axis=1)[:, :k]
        votes = np.zeros((len(te), labels["train"].max() + 1))
        for i in range(len(te)):
            for j in top[i]:
                votes[i, labels["train"][j]] += np.exp(sim[i, j] / 0.07)
        return votes.argmax(1)

    ours_pred = knn(ours["train"], ours["test"])
    torch_pred = knn(feats["train"], feats["test"])
    table = {m: {"images": len(v), "min": min(v), "median": float(np.median(v))} for m, v in sorted(by_mode.items())}
    print(json.dumps({"cosine_by_mode": table, "worst": {"cosine": worst[0], "file": worst[1]},
                      "knn_predictions_differ": int((ours_pred != torch_pred).sum()), "knn_test_images": len(ours_pred)}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
