"""Fixtures for DecodeTest: small images in the colour modes a real image folder holds, each next
to Pillow's Image.open(f).convert("RGB") of it (what VISSL's loader does), as uint8 H x W x 3 .npy.

    /usr/bin/python3 src/test/python/decode_fixtures.py
"""
import os
import numpy as np
from PIL import Image

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "decode")


def base(h=24, w=32):
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([8 * x % 256, 10 * y % 256, (4 * x + 6 * y) % 256], -1).astype(np.uint8)
    rgb[6:14, 10:20] = [0, 200, 255]  # a cyan block
    return rgb


def main():
    os.makedirs(OUT, exist_ok=True)
    rgb = base()
    files = {
        "rgb.png": Image.fromarray(rgb),
        "rgba.png": Image.fromarray(np.dstack([rgb, (np.arange(32)[None, :].repeat(24, 0) * 8).astype(np.uint8)]), "RGBA"),
        "gray.png": Image.fromarray(rgb[:, :, 1]),
        "gray_alpha.png": Image.fromarray(rgb[:, :, :2]).convert("LA") if False else Image.merge("LA", [Image.fromarray(rgb[:, :, 1]), Image.fromarray(rgb[:, :, 0])]),
        "palette.png": Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=16),
        "gray16.png": Image.fromarray((rgb[:, :, 1].astype(np.uint16) * 257), "I;16"),
        "rgb.jpg": Image.fromarray(rgb),
        "gray.jpg": Image.fromarray(rgb[:, :, 1]),
        "cmyk.jpg": Image.fromarray(rgb).convert("CMYK"),
    }
    for name, im in files.items():
        path = os.path.join(OUT, name)
        if name.endswith(".jpg"):
            im.save(path, quality=95)
        else:
            im.save(path)
        np.save(path + ".rgb.npy", np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8))


if __name__ == "__main__":
    main()
