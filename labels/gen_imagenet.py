#!/usr/bin/python3
"""Writes imagenet.txt: the ImageNet-1k class names, one per line, line
number (from 0) = class id.

The names come from Debian's python3-torchvision
(torchvision.models._meta._IMAGENET_CATEGORIES). Run it from this directory
with the system interpreter (go generate does):

    /usr/bin/python3 gen_imagenet.py [OUTPUT]

OUTPUT defaults to imagenet.txt; labels_test.go regenerates into a
temporary file and fails if the result differs from the committed one.
"""
import sys

from torchvision.models._meta import _IMAGENET_CATEGORIES as cats

assert len(cats) == 1000, len(cats)
for c in cats:
    assert c and c == c.strip() and "\n" not in c, repr(c)
out = sys.argv[1] if len(sys.argv) > 1 else "imagenet.txt"
with open(out, "w", encoding="utf-8", newline="\n") as f:
    for c in cats:
        f.write(c + "\n")
print(f"wrote {out}: {len(cats)} labels", file=sys.stderr)
