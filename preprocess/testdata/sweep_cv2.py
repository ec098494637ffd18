#!/usr/bin/python3
"""Randomised cv2.resize sweep for TestOpenCVSweep (opt-in, not committed data).

    /usr/bin/python3 preprocess/testdata/sweep_cv2.py /tmp/sweep 400
    LCNET_CV2_SWEEP=/tmp/sweep go test ./preprocess -run OpenCVSweep

Writes N random uint8 3-channel images (raw bytes, HWC, RGB) with random
target sizes (up, down, mixed, exact ratios, 1-pixel edges) and cv2's
INTER_LINEAR / INTER_NEAREST results, plus index.json.
"""
import json
import os
import sys

import cv2
import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 300
os.makedirs(out, exist_ok=True)
rng = np.random.RandomState(1234)
cases = []
for i in range(n):
    sw, sh = int(rng.randint(1, 400)), int(rng.randint(1, 400))
    kind = i % 6
    if kind == 0:
        dw, dh = int(rng.randint(1, 400)), int(rng.randint(1, 400))
    elif kind == 1:  # exact integer down-ratios (2x takes OpenCV's INTER_AREA path)
        k = int(rng.randint(2, 5))
        sw, sh = sw - sw % k + k, sh - sh % k + k
        dw, dh = sw // k, sh // k
    elif kind == 2:  # integer up-ratios
        k = int(rng.randint(2, 5))
        dw, dh = min(sw * k, 900), min(sh * k, 900)
    elif kind == 3:  # resize_short like
        s = int(rng.choice([32, 80, 224, 256]))
        p = float(s) / min(sw, sh)
        dw, dh = int(round(sw * p)), int(round(sh * p))
    elif kind == 4:  # one side unchanged
        dw, dh = sw, int(rng.randint(1, 400))
    else:  # thin
        dw, dh = int(rng.randint(1, 4)), int(rng.randint(1, 400))
    if rng.rand() < 0.5:
        img = rng.randint(0, 256, size=(sh, sw, 3)).astype(np.uint8)
    else:  # smooth with edges
        y, x = np.mgrid[0:sh, 0:sw]
        img = np.stack([(x * 7 + y) % 256, (y * 3) % 256, ((x ^ y) * 5) % 256], -1).astype(np.uint8)
    name = "c%04d" % i
    img.tofile(os.path.join(out, name + ".src"))
    cv2.resize(img, (dw, dh), interpolation=cv2.INTER_LINEAR).tofile(os.path.join(out, name + ".lin"))
    cv2.resize(img, (dw, dh), interpolation=cv2.INTER_NEAREST).tofile(os.path.join(out, name + ".nn"))
    cases.append({"name": name, "sw": sw, "sh": sh, "dw": dw, "dh": dh})
with open(os.path.join(out, "index.json"), "w") as f:
    json.dump(cases, f)
