"""A real image-folder data set from Debian's tuxpaint-stamps-default (apt-get install
tuxpaint-stamps-default python3-pil), for end-to-end runs on image files:

    /usr/bin/python3 scripts/tuxpaint_set.py /tmp/tuxpaint

writes /tmp/tuxpaint/{train,test}/<category>/... (ImageFolder layout, every 5th image of a
category to test). The stamps are RGBA, LA and palette PNGs; the script keeps a third as they
are, saves a third as RGB JPEG (flattened on white), and turns the rest into grayscale JPEG,
CMYK JPEG and 16-bit grayscale PNG, so every decoder path is used. Planted in train: an empty
file, a truncated JPEG and a text file named .jpg (they must become gray images, counted and
listed). Deterministic: sorted files, fixed choices.
"""
import os
import sys
from PIL import Image
import numpy as np

STAMPS = "/usr/share/tuxpaint/stamps"
CATEGORIES = ["animals", "food", "household", "plants", "seasonal", "symbols", "town", "vehicles"]
PER_CATEGORY = 48


def flat(im):
    """RGBA/LA/P to RGB on white (for JPEG)."""
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, im).convert("RGB")


def main(out):
    counts = {}
    for cat in CATEGORIES:
        files = []
        for root, _, names in os.walk(os.path.join(STAMPS, cat)):
            files += [os.path.join(root, n) for n in names if n.endswith(".png") and "_mirror" not in n and "_flip" not in n]
        files = sorted(files)[:PER_CATEGORY]
        for i, src in enumerate(files):
            split = "test" if i % 5 == 4 else "train"
            d = os.path.join(out, split, cat)
            os.makedirs(d, exist_ok=True)
            stem = os.path.join(d, "%03d" % i)
            im = Image.open(src)
            im.load()
            kind = i % 6
            if kind in (0, 1):
                im.save(stem + ".png")                                   # RGBA / LA / P as shipped
            elif kind in (2, 3):
                flat(im).save(stem + ".jpg", quality=90)                  # RGB JPEG
            elif kind == 4:
                flat(im).convert("L").save(stem + ".jpg", quality=90)     # grayscale JPEG
            elif i % 12 == 5:
                flat(im).convert("CMYK").save(stem + ".jpg", quality=90)  # CMYK JPEG
            else:
                g = np.asarray(flat(im).convert("L"), dtype=np.uint16) * 257
                Image.fromarray(g, "I;16").save(stem + ".png")            # 16-bit PNG
            counts[split] = counts.get(split, 0) + 1
    bad = os.path.join(out, "train", CATEGORIES[0])
    open(os.path.join(bad, "zz_empty.png"), "wb").close()
    good = open(os.path.join(out, "train", CATEGORIES[1], sorted(os.listdir(os.path.join(out, "train", CATEGORIES[1])))[2]), "rb").read()
    open(os.path.join(bad, "zz_truncated.jpg"), "wb").write(good[: len(good) // 3])
    open(os.path.join(bad, "zz_text.jpg"), "w").write("this is not an image\n")
    print(f"{out}: {counts.get('train', 0)} train + 3 bad files, {counts.get('test', 0)} test images in {len(CATEGORIES)} categories")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tuxpaint")
