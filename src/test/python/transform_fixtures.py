"""Fixtures for TorchvisionEquivalenceTest: torchvision's deterministic transform steps on PIL
images, saved as .npy (uint8 H x W x 3 images, float32 C x H x W tensors) next to their inputs.

Run with Debian's python3-torchvision (it brings Pillow), from the repository root:
    /usr/bin/python3 src/test/python/transform_fixtures.py
The files land in src/test/resources/torchvision/ and are committed, so the test itself needs
no Python.
"""
import os
import numpy as np
from PIL import Image
import torchvision
import torchvision.transforms.functional as F

OUT = os.path.join(os.path.dirname(__file__), "..", "resources", "torchvision")


def image(h, w, seed):
    """Smooth colour gradients with a bright disc and noise: every op gets edges, flats and saturated colours."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(1, w - 1)
    g = 255 * y / max(1, h - 1)
    b = 128 + 100 * np.sin(x / 3.0) * np.cos(y / 4.0)
    disc = (x - w / 3) ** 2 + (y - h / 2) ** 2 < (min(h, w) / 4) ** 2
    rgb = np.stack([r, g, b], -1)
    rgb[disc] = [250, 240, 30]
    rgb += rng.normal(0, 12, rgb.shape)
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def save(name, arr):
    np.save(os.path.join(OUT, name + ".npy"), np.ascontiguousarray(arr))


def main():
    os.makedirs(OUT, exist_ok=True)
    big = image(40, 30, 1)    # H x W
    small = image(9, 12, 2)
    save("in_big", big)
    save("in_small", small)
    pb, ps = Image.fromarray(big), Image.fromarray(small)
    u8 = lambda im: np.asarray(im, dtype=np.uint8)
    save("resize_big_17x23", u8(F.resize(pb, [17, 23])))                # down, both axes antialiased
    save("resize_small_25x31", u8(F.resize(ps, [25, 31])))              # up
    save("resize_big_short20", u8(F.resize(pb, 20)))                    # shorter side 20
    save("resized_crop_big", u8(F.resized_crop(pb, 3, 5, 20, 17, [16, 16])))
    save("center_crop_big_20x14", u8(F.center_crop(pb, [20, 14])))
    save("hflip_big", u8(F.hflip(pb)))
    for f in (0.6, 1.4):
        save(f"brightness_{f}", u8(F.adjust_brightness(pb, f)))
        save(f"contrast_{f}", u8(F.adjust_contrast(pb, f)))
        save(f"saturation_{f}", u8(F.adjust_saturation(pb, f)))
    for f in (-0.35, 0.2):
        save(f"hue_{f}", u8(F.adjust_hue(pb, f)))
    save("grayscale_big", u8(F.rgb_to_grayscale(pb, num_output_channels=3)))
    save("blur_5x5_1.3", u8(F.gaussian_blur(pb, [5, 5], [1.3, 1.3])))
    save("blur_7x3_0.8", u8(F.gaussian_blur(pb, [7, 3], [0.8, 0.8])))
    t = F.normalize(F.to_tensor(pb), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    save("to_tensor_normalize_big", t.numpy().astype(np.float32))
    with open(os.path.join(OUT, "VERSIONS.txt"), "w") as f:
        f.write(f"torchvision {torchvision.__version__}, Pillow {Image.__version__}, numpy {np.__version__}\n")


if __name__ == "__main__":
    main()
