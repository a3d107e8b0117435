"""PIL + torchvision reference for `npid4j bench data`: decode + VISSL's NPID training transforms
(ColorJitter 0.4 x 4, RandomResizedCrop 224, RandomHorizontalFlip, ToTensor, Normalize) over an
ImageFolder with a torch DataLoader of --threads worker processes, batch 32, one JSON line.

    python3 bench/data_pipeline.py --root /tmp/npid4j-jpegs --images 2000 --threads 2
    python3 bench/data_pipeline.py --make-jpegs /tmp/npid4j-jpegs   # the JPEG folder both sides read
"""
import argparse
import glob
import os
import time

import torch
import torchvision.datasets as datasets
import torchvision.transforms as T

from common import emit, setup


def make_jpegs(out, count=800):
    """ImageNet-sized JPEGs (500 x 375, quality 90) from Debian's tuxpaint stamps, 8 class folders."""
    from PIL import Image
    stamps = sorted(glob.glob("/usr/share/tuxpaint/stamps/**/*.png", recursive=True))
    if not stamps:
        raise SystemExit("apt-get install tuxpaint-stamps-default")
    for i in range(count):
        im = Image.open(stamps[i % len(stamps)]).convert("RGBA")
        bg = Image.new("RGBA", im.size, (255 - i % 97, 255 - i % 89, 255 - i % 83, 255))
        im = Image.alpha_composite(bg, im).convert("RGB").resize((500, 375), Image.BILINEAR)
        d = os.path.join(out, "c%d" % (i % 8))
        os.makedirs(d, exist_ok=True)
        im.save(os.path.join(d, "%04d.jpg" % i), quality=90)
    print(f"{count} JPEGs in {out}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--root")
    p.add_argument("--make-jpegs")
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    if a.make_jpegs:
        make_jpegs(a.make_jpegs)
        return
    setup(1)
    tf = T.Compose([T.ColorJitter(0.4, 0.4, 0.4, 0.4), T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(),
                    T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    ds = datasets.ImageFolder(a.root, tf)
    g = torch.Generator()
    g.manual_seed(0)
    # persistent workers: epochs after the first do not pay for forking the workers again
    loader = torch.utils.data.DataLoader(ds, batch_size=32, shuffle=True, num_workers=a.threads, generator=g,
                                         persistent_workers=True)
    seen = 0
    t0 = time.perf_counter()
    while seen < a.images:
        for x, _ in loader:
            seen += x.shape[0]
            if seen >= a.images:
                break
    seconds = time.perf_counter() - t0
    emit({"bench": "data", "images": seen, "workers": a.threads, "seconds": seconds, "img_per_s": seen / seconds}, a.threads)


if __name__ == "__main__":
    main()
