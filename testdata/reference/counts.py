#!/usr/bin/python3
"""Independent cross-check of parameter and multiply-accumulate counts for the 8 paper scales at 224x224,
1000 classes, using the torch reference model from gen_pplcnet.py. Writes counts.json beside this file.

params_trainable = conv/fc weights+biases, BN weight+bias  (this is what the facts file / paper report)
params      = all Paddle state_dict entries, i.e. also BN _mean/_variance
macs        = convs (incl. depthwise, SE 1x1 convs, last_conv) + fc: out_elems * (Cin/groups) * kh * kw, fc in*out
"""
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_pplcnet as G  # noqa: E402

SCALES = [0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5]
EXPECTED_PARAMS_M = [1.521, 1.643, 1.880, 2.357, 2.953, 4.500, 6.522, 9.018]
EXPECTED_MACS_M = [16.77, 27.36, 44.73, 94.79, 155.70, 334.19, 580.19, 893.72]


def count(scale, h=224, w=224, class_num=1000, stride_list=(2, 2, 2, 2, 2), use_last_conv=True):
    m = G.PPLCNet(scale=scale, class_num=class_num, stride_list=list(stride_list), use_last_conv=use_last_conv)
    m.eval()
    sd = G.paddle_state_dict(m)
    params = sum(v.size for v in sd.values())
    trainable = sum(v.size for k, v in sd.items() if not k.endswith(("._mean", "._variance")))
    macs = {"stem": 0, "depthwise": 0, "pointwise": 0, "se": 0, "last_conv": 0, "fc": 0}

    def conv_hook(name):
        def f(mod, inp, out):
            n = out[0].numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
            if ".se." in name:
                macs["se"] += n
            elif name == "last_conv":
                macs["last_conv"] += n
            elif name.endswith("dw_conv.conv"):
                macs["depthwise"] += n
            elif name.endswith("pw_conv.conv"):
                macs["pointwise"] += n
            else:
                macs["stem"] += n
        return f

    for name, mod in m.named_modules():
        if isinstance(mod, nn.Conv2d):
            mod.register_forward_hook(conv_hook(name))
        elif isinstance(mod, nn.Linear):
            mod.register_forward_hook(lambda mod, i, o: macs.__setitem__("fc", macs["fc"] + mod.in_features * mod.out_features))
    with torch.no_grad():
        m(torch.zeros(1, 3, h, w))
    return dict(scale=scale, H=h, W=w, class_num=class_num, params=params, params_trainable=trainable,
                macs=sum(macs.values()), macs_breakdown=macs)


def main():
    torch.set_num_threads(1)
    rows = [count(s) for s in SCALES]
    extra = [count(0.25, 80, 160, 2, [2, [2, 1], [2, 1], [2, 1], [2, 1]]),  # PULC textline orientation
             count(0.5, 96, 96, 10, use_last_conv=False)]
    print("%-6s %12s %12s %10s %12s %10s" % ("scale", "trainable", "+BN stats", "facts", "MACs", "facts"))
    ok = True
    for r, ep, em in zip(rows, EXPECTED_PARAMS_M, EXPECTED_MACS_M):
        print("%-6s %12d %12d %9.3fM %12d %9.2fM" % (r["scale"], r["params_trainable"], r["params"], ep, r["macs"], em))
        ok &= abs(r["params_trainable"] / 1e6 - ep) < 0.0005 and abs(r["macs"] / 1e6 - em) < 0.005
    for r in extra:
        print("extra: scale %s %dx%d classes %d: trainable %d (+BN stats %d) MACs %d" % (
            r["scale"], r["H"], r["W"], r["class_num"], r["params_trainable"], r["params"], r["macs"]))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "counts.json")
    with open(out, "w") as f:
        json.dump({"paper_scales_224": rows, "extra": extra}, f, indent=1, sort_keys=True)
        f.write("\n")
    print("matches facts file:" , ok)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
