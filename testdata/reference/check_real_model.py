#!/usr/bin/python3
"""Load the real PaddleOCR PP-LCNet_x0_25_textline_ori weights (Paddle 3 PIR inference.json + inference.pdiparams)
into the independent torch reference (gen_pplcnet.PPLCNet) and check Paddle's published output for
x[i] = sin(0.01*i), 1x3x80x160: [0.09793915, 0.90206081]."""
import json
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_pplcnet as G  # noqa: E402

MODEL_DIR = os.environ.get("PPLCNET_TEXTLINE_DIR", "/work/shared/models/pplcnet_x0_25_textline_ori")
EXPECTED_PADDLE = np.array([0.09793915, 0.90206081])
EXPECTED_ONNX = np.array([0.09793964, 0.90206039])


def read_tensor_desc(b):
    """VarType.TensorDesc: field 1 varint data_type, field 2 repeated int64 dims (packed or not)."""
    i, dtype, dims = 0, None, []

    def varint(i):
        r = s = 0
        while True:
            c = b[i]
            i += 1
            r |= (c & 0x7F) << s
            s += 7
            if c < 0x80:
                return r, i
    while i < len(b):
        key, i = varint(i)
        f, wt = key >> 3, key & 7
        if f == 1 and wt == 0:
            dtype, i = varint(i)
        elif f == 2 and wt == 0:
            v, i = varint(i)
            dims.append(v - (1 << 64) if v >= 1 << 63 else v)
        elif f == 2 and wt == 2:
            n, i = varint(i)
            end = i + n
            while i < end:
                v, i = varint(i)
                dims.append(v)
        else:
            raise ValueError("unexpected field %d/%d" % (f, wt))
    return dtype, dims


def read_pdiparams(path, names):
    data = open(path, "rb").read()
    off = 0
    out = {}
    for name in names:
        ver, = struct.unpack_from("<I", data, off)
        off += 4
        assert ver == 0
        lod, = struct.unpack_from("<Q", data, off)
        off += 8
        for _ in range(lod):
            n, = struct.unpack_from("<Q", data, off)
            off += 8 + n
        tver, dlen = struct.unpack_from("<Ii", data, off)
        off += 8
        assert tver == 0
        dtype, dims = read_tensor_desc(data[off:off + dlen])
        off += dlen
        assert dtype == 5, (name, dtype)  # FP32
        n = int(np.prod(dims))
        out[name] = np.frombuffer(data, "<f4", n, off).reshape(dims).copy()
        off += 4 * n
    assert off == len(data), "trailing bytes"
    return out


def main():
    torch.set_num_threads(1)
    prog = json.load(open(os.path.join(MODEL_DIR, "paddle", "inference.json")))
    ops = prog["program"]["regions"][0]["blocks"][0]["ops"]
    vid2param, shapes = {}, {}
    for o in ops:
        if o["#"] == "p":
            vid2param[o["O"]["%"]] = o["A"][3]
            shapes[o["A"][3]] = o["O"]["TT"]["D"][1]
    names = sorted(vid2param.values(), key=lambda s: s.encode())  # bytewise, as std::sort
    raw = read_pdiparams(os.path.join(MODEL_DIR, "paddle", "inference.pdiparams"), names)
    for k, v in raw.items():
        assert list(v.shape) == list(shapes[k]), (k, v.shape, shapes[k])
    strip = {re.sub(r"_deepcopy_\d+$", "", k): v for k, v in raw.items()}

    # read architecture attributes from the program and compare with the reference model
    convs, hsig, drop = [], [], []
    for o in ops:
        attrs = {a["N"]: a["AT"].get("D") for a in o.get("A", []) if isinstance(a, dict)}
        if o["#"] in ("1.conv2d", "1.depthwise_conv2d"):
            w = vid2param[o["I"][1]["%"]]
            st = tuple(s["D"] for s in attrs["strides"])
            convs.append((re.sub(r"_deepcopy_\d+$", "", w), st, attrs["groups"]))
        elif o["#"] == "1.hardsigmoid":
            hsig.append((attrs["slope"], attrs["offset"]))
        elif o["#"] == "1.dropout":
            drop.append(attrs["mode"])
    print("program: %d convs; dw strides != 1: %s" % (
        len(convs), [(w, s) for w, s, g in convs if g > 1 and s != (1, 1)]))
    print("hardsigmoid (slope, offset):", hsig, " dropout mode:", drop)

    cfg = dict(scale=0.25, class_num=2, stride_list=[2, [2, 1], [2, 1], [2, 1], [2, 1]])
    model = G.PPLCNet(scale=cfg["scale"], class_num=cfg["class_num"], stride_list=cfg["stride_list"],
                      hsig_slope=hsig[0][0] if hsig else 1.0 / 6.0)
    model.eval()
    fw = G.framework_names(model)  # structured -> conv2d_i.w_0 ... in construction order
    params = {}
    for struct_name, fname in fw.items():
        params[struct_name] = strip[fname]
    assert len(params) == len(strip) == len(fw), (len(params), len(strip), len(fw))
    # the program's conv order + strides must match ours (proves conv2d_i numbering = construction order)
    tconvs = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(tconvs) == len(convs)
    for (n, m), (w, st, g) in zip(tconvs, convs):
        assert fw[n + ".weight"] == w, (n, w)
        assert tuple(m.stride) == st and m.groups == g, (n, m.stride, st, m.groups, g)
    G.load_paddle_state_dict(model, params)

    x = np.sin(0.01 * np.arange(1 * 3 * 80 * 160)).reshape(1, 3, 80, 160).astype(np.float32)
    logits, probs = G.run64(model, x)
    with torch.no_grad():
        p32 = model(torch.from_numpy(x)).numpy()
    np.set_printoptions(precision=8)
    print("torch reference (float64):", probs[0], " float32:", p32[0])
    print("expected paddle          :", EXPECTED_PADDLE, " max |diff| %.2e" % np.abs(probs[0] - EXPECTED_PADDLE).max())
    ok = np.abs(probs[0] - EXPECTED_PADDLE).max() < 2e-6

    # the released ONNX (paddle2onnx, opset 7, BN folded), run by the numpy executor, if its ops are supported
    try:
        import onnx_numpy
        po = onnx_numpy.run(os.path.join(MODEL_DIR, "model.onnx"), x)
        print("model.onnx via onnx_numpy:", po[0], " expected", EXPECTED_ONNX,
              " max |diff| %.2e" % np.abs(po[0] - EXPECTED_ONNX).max())
    except NotImplementedError as e:
        print("model.onnx: numpy executor lacks op", e)

    # ablations: what the classic mistakes do to this input
    for label, kw in (("slope 0.2", dict(hsig_slope=0.2)), ("no x0.8 (dropout_prob 0)", dict(dropout_prob=0.0)),
                      ("stride_list [2,2,2,2,2]", dict(stride_list=[2, 2, 2, 2, 2]))):
        a = dict(scale=0.25, class_num=2, stride_list=cfg["stride_list"], hsig_slope=1.0 / 6.0)
        a.update(kw)
        m2 = G.PPLCNet(**a)
        m2.eval()
        G.load_paddle_state_dict(m2, params)
        print("  ablation %-26s -> %s" % (label, G.run64(m2, x)[1][0]))
    print("OK" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
