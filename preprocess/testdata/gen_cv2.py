#!/usr/bin/python3
"""Generate the preprocess package's test fixtures with OpenCV.

Run from anywhere with Debian's python3-opencv / python3-numpy / python3-pil:

    /usr/bin/python3 preprocess/testdata/gen_cv2.py

It writes small synthetic source images (inputs/), what cv2 makes of them
(expected/) and manifest.json, which the Go tests iterate. The reference
pipeline below transcribes PaddleClas' ppcls/data/preprocess/ops/operators.py
(DecodeImage, ResizeImage, CropImage, NormalizeImage, ToCHWImage) and
PaddleX's image-classification Normalize; it runs the real cv2/numpy calls.

Expected images are stored as RGB PNGs (lossless), tensors as .npy.
"""

import io
import json
import os
import sys

import cv2
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
INP = os.path.join(HERE, "inputs")
EXP = os.path.join(HERE, "expected")

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def synth(h, w, seed):
    """A smooth, PNG-friendly BGR uint8 image with sharp edges and a noisy patch."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = x * 255.0 / max(w - 1, 1)
    g = y * 255.0 / max(h - 1, 1)
    b = 128 + 110 * np.sin(x / 29.0 + seed) * np.cos(y / 17.0)
    img = np.stack([b, g, r], -1)
    for _ in range(5):
        x0, y0 = rng.randint(0, w), rng.randint(0, h)
        x1, y1 = x0 + rng.randint(1, max(2, w // 3)), y0 + rng.randint(1, max(2, h // 3))
        img[y0:y1, x0:x1] = rng.randint(0, 256, size=3)
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    ph, pw = min(h, 12), min(w, 12)
    img[:ph, -pw:] = rng.randint(0, 256, size=(ph, pw, 3))  # high-frequency corner
    img[h // 2, :] = 255 - img[h // 2, :]  # a one-pixel line
    return img


def imread_rgb(path):
    """What PaddleX's ReadImage(format='RGB') returns (cv2 IMREAD_COLOR, BGR->RGB)."""
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    assert img is not None, path
    return img[:, :, ::-1]


def write_rgb_png(path, rgb):
    ok = cv2.imwrite(path, np.ascontiguousarray(rgb[:, :, ::-1]), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok, path


# --- PaddleClas operators (transcribed) -------------------------------------

def resize_image(img, size=None, resize_short=None, interpolation=cv2.INTER_LINEAR):
    img_h, img_w = img.shape[:2]
    if resize_short is not None:
        percent = float(resize_short) / min(img_w, img_h)
        w = int(round(img_w * percent))
        h = int(round(img_h * percent))
    else:
        w, h = size
    return cv2.resize(img, (w, h), interpolation=interpolation)


def crop_image(img, size):
    w, h = size
    img_h, img_w = img.shape[:2]
    w_start = (img_w - w) // 2
    h_start = (img_h - h) // 2
    return img[h_start:h_start + h, w_start:w_start + w, :]


def normalize_paddleclas(img, scale=1.0 / 255.0, mean=MEAN, std=STD):
    scale = np.float32(scale)
    mean = np.array(mean).reshape((1, 1, 3)).astype("float32")
    std = np.array(std).reshape((1, 1, 3)).astype("float32")
    return ((img.astype("float32") * scale - mean) / std).astype("float32")


def normalize_paddlex(img, scale=1.0 / 255, mean=MEAN, std=STD):
    alpha = [scale / std[i] for i in range(len(std))]
    beta = [-mean[i] / std[i] for i in range(len(std))]
    split_im = list(cv2.split(img))
    for c in range(img.shape[2]):
        split_im[c] = split_im[c].astype(np.float32)
        split_im[c] *= alpha[c]
        split_im[c] += beta[c]
    return cv2.merge(split_im)


def to_chw(img):
    return img.transpose((2, 0, 1))


# --- fixtures ---------------------------------------------------------------

manifest = {"decode": [], "resize": [], "pipeline": [], "jpeg": []}


def rel(p):
    return os.path.relpath(p, HERE)


def add_resize_cases(name, path, rgb):
    """Resize (and crop) cases for one decoded source."""
    h, w = rgb.shape[:2]
    cases = []
    # ImageNet: resize_short 256, centre crop 224 (only if it fits).
    r = resize_image(rgb, resize_short=256)
    if r.shape[0] >= 224 and r.shape[1] >= 224:
        cases.append(("short256_crop224", {"resize_short": 256, "crop": [224, 224]}, crop_image(r, (224, 224))))
    else:
        cases.append(("short256", {"resize_short": 256}, r))
    # Text-line classifier: fixed 160x80.
    cases.append(("size160x80", {"size": [160, 80]}, resize_image(rgb, size=(160, 80))))
    # Odd sizes, up and down, and a nearest-neighbour case.
    if w * h < 5000:
        ow, oh = w * 5 // 3 + 2, h * 7 // 3 + 1
    else:
        ow, oh = w * 3 // 7 + 1, h * 2 // 5 + 3
    cases.append(("odd%dx%d" % (ow, oh), {"size": [ow, oh]}, resize_image(rgb, size=(ow, oh))))
    cases.append(("nearest37x23", {"size": [37, 23], "interpolation": "nearest"},
                  resize_image(rgb, size=(37, 23), interpolation=cv2.INTER_NEAREST)))
    if w % 2 == 0 and h % 2 == 0 and w >= 4:
        # Exact 2x downscale: OpenCV switches to its INTER_AREA fast path.
        cases.append(("half", {"size": [w // 2, h // 2]}, resize_image(rgb, size=(w // 2, h // 2))))
    for tag, params, out in cases:
        exp = os.path.join(EXP, "%s__%s.png" % (name, tag))
        write_rgb_png(exp, out)
        manifest["resize"].append({"name": "%s/%s" % (name, tag), "input": rel(path),
                                   "params": params, "expected": rel(exp),
                                   "w": int(out.shape[1]), "h": int(out.shape[0])})


def main():
    os.makedirs(INP, exist_ok=True)
    os.makedirs(EXP, exist_ok=True)

    # Plain RGB PNGs of awkward sizes.
    sizes = [(1, 1), (3, 7), (17, 5), (333, 251), (513, 512), (512, 384), (640, 427)]
    pngs = []
    for i, (w, h) in enumerate(sizes):
        bgr = synth(h, w, seed=i)
        p = os.path.join(INP, "rgb_%dx%d.png" % (w, h))
        cv2.imwrite(p, bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        pngs.append(("rgb_%dx%d" % (w, h), p))

    # Variants that exercise the decoder's colour conversion.
    base = synth(31, 45, seed=42)
    grey = cv2.cvtColor(base, cv2.COLOR_BGR2GRAY)
    p = os.path.join(INP, "grey_45x31.png"); cv2.imwrite(p, grey); pngs.append(("grey_45x31", p))
    rgba = np.dstack([base, (np.arange(31 * 45).reshape(31, 45) % 256).astype(np.uint8)])
    p = os.path.join(INP, "rgba_45x31.png"); cv2.imwrite(p, rgba); pngs.append(("rgba_45x31", p))
    p = os.path.join(INP, "rgb16_45x31.png")
    cv2.imwrite(p, base.astype(np.uint16) * 257 + np.arange(31 * 45 * 3).reshape(31, 45, 3).astype(np.uint16) % 251)
    pngs.append(("rgb16_45x31", p))
    p = os.path.join(INP, "grey16_45x31.png")
    cv2.imwrite(p, grey.astype(np.uint16) * 256 + 255)
    pngs.append(("grey16_45x31", p))
    pal = Image.fromarray(base[:, :, ::-1]).quantize(colors=13)
    p = os.path.join(INP, "palette_45x31.png"); pal.save(p, transparency=3); pngs.append(("palette_45x31", p))
    la = Image.fromarray(np.dstack([grey, 255 - grey]), "LA")
    p = os.path.join(INP, "greyalpha_45x31.png"); la.save(p); pngs.append(("greyalpha_45x31", p))
    # EXIF orientation in PNG (eXIf chunk): cv2 4.x applies it.
    for o in range(1, 9):
        ex = Image.Exif(); ex[0x0112] = o
        p = os.path.join(INP, "exif%d_13x7.png" % o)
        Image.fromarray(synth(7, 13, seed=o)[:, :, ::-1]).save(p, exif=ex.tobytes())
        pngs.append(("exif%d_13x7" % o, p))
    # Other containers: BMP, TIFF, lossless WebP (cv2), GIF (PIL; cv2 4.6 has no GIF reader).
    others = []
    p = os.path.join(INP, "bmp_19x11.bmp"); cv2.imwrite(p, synth(11, 19, seed=7)); others.append(("bmp_19x11", p))
    p = os.path.join(INP, "tiff_19x11.tiff"); cv2.imwrite(p, synth(11, 19, seed=8)); others.append(("tiff_19x11", p))
    p = os.path.join(INP, "webp_19x11.webp")
    cv2.imwrite(p, synth(11, 19, seed=9), [cv2.IMWRITE_WEBP_QUALITY, 101]); others.append(("webp_19x11", p))

    for name, p in pngs + others:
        if name.startswith("rgb_") and name != "rgb_17x5":
            continue  # a plain 8-bit RGB PNG decodes to its own pixels
        rgb = imread_rgb(p)
        exp = os.path.join(EXP, name + "__decoded.png")
        write_rgb_png(exp, rgb)
        manifest["decode"].append({"name": name, "input": rel(p), "expected": rel(exp),
                                   "w": int(rgb.shape[1]), "h": int(rgb.shape[0])})

    p = os.path.join(INP, "gif_19x11.gif")
    gif = Image.fromarray(synth(11, 19, seed=10)[:, :, ::-1]).quantize(colors=32)
    gif.save(p)
    exp = os.path.join(EXP, "gif_19x11__decoded.png")
    write_rgb_png(exp, np.array(Image.open(p).convert("RGB")))
    manifest["decode"].append({"name": "gif_19x11", "input": rel(p), "expected": rel(exp), "w": 19, "h": 11,
                               "note": "reference is PIL's first frame; cv2 4.6 cannot read GIF"})

    for name, p in pngs:
        if name.startswith("rgb_") or name in ("grey_45x31", "palette_45x31"):
            add_resize_cases(name, p, imread_rgb(p))

    # JPEGs (PIL encoder, libjpeg-turbo): 4:4:4, 4:2:0, 4:2:2, grey, EXIF-rotated.
    photo = synth(120, 160, seed=11)
    jpegs = [("jpeg444_160x120", {"subsampling": 0}), ("jpeg420_160x120", {"subsampling": 2}),
             ("jpeg422_160x120", {"subsampling": 1})]
    for name, kw in jpegs:
        p = os.path.join(INP, name + ".jpg")
        Image.fromarray(photo[:, :, ::-1]).save(p, quality=90, **kw)
    p = os.path.join(INP, "jpeggrey_160x120.jpg")
    Image.fromarray(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY)).save(p, quality=90)
    jpegs.append(("jpeggrey_160x120", {}))
    ex = Image.Exif(); ex[0x0112] = 6
    p = os.path.join(INP, "jpegexif6_160x120.jpg")
    Image.fromarray(photo[:, :, ::-1]).save(p, quality=90, subsampling=2, exif=ex.tobytes())
    jpegs.append(("jpegexif6_160x120", {}))
    for name, _ in jpegs:
        p = os.path.join(INP, name + ".jpg")
        rgb = imread_rgb(p)
        exp = os.path.join(EXP, name + "__decoded.png")
        write_rgb_png(exp, rgb)
        short = resize_image(rgb, resize_short=100)
        crop = crop_image(short, (96, 96))
        expc = os.path.join(EXP, name + "__short100_crop96.png")
        write_rgb_png(expc, crop)
        manifest["jpeg"].append({"name": name, "input": rel(p), "decoded": rel(exp),
                                 "w": int(rgb.shape[1]), "h": int(rgb.shape[0]),
                                 "resized": rel(expc), "params": {"resize_short": 100, "crop": [96, 96]}})

    # Normalisation tables: every uint8 value through both frameworks' arithmetic.
    ramp = np.repeat(np.arange(256, dtype=np.uint8).reshape(1, 256, 1), 3, axis=2)
    np.save(os.path.join(HERE, "norm_paddleclas.npy"), np.ascontiguousarray(to_chw(normalize_paddleclas(ramp))[:, 0, :]))
    np.save(os.path.join(HERE, "norm_paddlex.npy"), np.ascontiguousarray(to_chw(normalize_paddlex(ramp))[:, 0, :]))
    # '1.0/255.0' string scale and the 0.00392157 literal of older configs.
    np.save(os.path.join(HERE, "norm_paddleclas_0.00392157.npy"),
            np.ascontiguousarray(to_chw(normalize_paddleclas(ramp, scale=0.00392157))[:, 0, :]))

    # End-to-end tensors (PaddleClas order, RGB and BGR), small enough to keep.
    configs = {
        "pipe_short32_crop24.yml": ("ResizeImage:\n        resize_short: 32\n    - CropImage:\n        size: 24", 32, (24, 24)),
        "pipe_size20x12.yml": ("ResizeImage:\n        size: [20, 12]", None, None),
    }
    for cfgname, (resize_yaml, short, crop) in configs.items():
        for order in ("rgb", "bgr"):
            cfg = ("Global:\n  model_name: test\nPreProcess:\n  transform_ops:\n"
                   "    - DecodeImage:\n        to_rgb: %s\n        channel_first: False\n"
                   "    - %s\n"
                   "    - NormalizeImage:\n        scale: 1.0/255.0\n        mean: [0.485, 0.456, 0.406]\n"
                   "        std: [0.229, 0.224, 0.225]\n        order: ''\n"
                   "    - ToCHWImage:\n"
                   "PostProcess:\n  Topk:\n    topk: 2\n    label_list:\n    - a\n    - b\n"
                   % ("True" if order == "rgb" else "False", resize_yaml))
            cp = os.path.join(HERE, cfgname.replace(".yml", "_%s.yml" % order))
            with open(cp, "w") as f:
                f.write(cfg)
            for name, p in pngs[:5]:
                data = open(p, "rb").read()
                img = cv2.imdecode(np.frombuffer(data, dtype="uint8"), 1)  # DecodeImage
                if order == "rgb":
                    img = img[:, :, ::-1]
                if short:
                    img = resize_image(img, resize_short=short)
                    img = crop_image(img, crop)
                else:
                    img = resize_image(img, size=(20, 12))
                t = to_chw(normalize_paddleclas(img))[None]
                out = os.path.join(EXP, "%s__%s.npy" % (name, os.path.basename(cp)[:-4]))
                np.save(out, np.ascontiguousarray(t))
                manifest["pipeline"].append({"name": "%s/%s" % (name, os.path.basename(cp)), "input": rel(p),
                                             "config": rel(cp), "expected": rel(out), "formula": "paddleclas"})
                if order == "rgb" and not short:
                    # PaddleX's predictor: ReadImage(RGB), Resize, Normalize
                    # (alpha/beta form), ToCHWImage, ToBatch.
                    t = to_chw(normalize_paddlex(resize_image(imread_rgb(p), size=(20, 12))))[None]
                    out = os.path.join(EXP, "%s__%s_paddlex.npy" % (name, os.path.basename(cp)[:-4]))
                    np.save(out, np.ascontiguousarray(t.astype(np.float32)))
                    manifest["pipeline"].append({"name": "%s/%s/paddlex" % (name, os.path.basename(cp)),
                                                 "input": rel(p), "config": rel(cp), "expected": rel(out),
                                                 "formula": "paddlex"})

    manifest["opencv"] = cv2.__version__
    manifest["numpy"] = np.__version__
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")
    total = 0
    for root, _, files in os.walk(HERE):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    print("fixtures: %d bytes" % total, file=sys.stderr)


if __name__ == "__main__":
    main()
