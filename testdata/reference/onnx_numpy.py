#!/usr/bin/python3
"""Tiny float64 numpy executor for the ONNX graphs written by gen_pplcnet.py (independent of torch)."""
import numpy as np
import onnx
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _conv(x, w, b, strides, pads, group):
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    sh, sw = strides
    pt, pl, pb, pr = pads[0], pads[1], pads[2], pads[3]
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    oh = (h + pt + pb - kh) // sh + 1
    ow = (wd + pl + pr - kw) // sw + 1
    og = o // group
    out = np.zeros((n, o, oh, ow))
    for g in range(group):
        xg = xp[:, g * cg:(g + 1) * cg]
        wg = w[g * og:(g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                patch = xg[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, wg[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def _dwconv(x, w, b, strides, pads):
    n, c, h, wd = x.shape
    kh, kw = w.shape[2:]
    sh, sw = strides
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (h + pads[0] + pads[2] - kh) // sh + 1
    ow = (wd + pads[1] + pads[3] - kw) // sw + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(kh):
        for j in range(kw):
            out += xp[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw] * w[None, :, 0, i, j, None, None]
    if b is not None:
        out += b[None, :, None, None]
    return out


def run(path, x):
    m = onnx.load(path)
    env = {t.name: numpy_helper.to_array(t).astype(np.float64) if numpy_helper.to_array(t).dtype.kind == "f"
           else numpy_helper.to_array(t) for t in m.graph.initializer}
    env[m.graph.input[0].name] = x.astype(np.float64)
    for nd in m.graph.node:
        a = _attrs(nd)
        i = [env[n] if n else None for n in nd.input]
        t = nd.op_type
        if t == "Constant":
            v = numpy_helper.to_array(a["value"])
            r = v.astype(np.float64) if v.dtype.kind == "f" else v
        elif t == "Conv":
            w = i[1]
            k = w.shape[2:]
            pads = a.get("pads", [0, 0, 0, 0])
            st = a.get("strides", [1, 1])
            g = a.get("group", 1)
            assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET")
            assert list(a.get("dilations", [1, 1])) == [1, 1]
            b = i[2] if len(i) > 2 else None
            if g > 1 and g == w.shape[0] and w.shape[1] == 1:
                r = _dwconv(i[0], w, b, st, pads)
            else:
                r = _conv(i[0], w, b, st, pads, g)
        elif t == "BatchNormalization":
            sc, bi, mu, var = i[1:5]
            eps = a.get("epsilon", 1e-5)
            r = (i[0] - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + eps) * sc[None, :, None, None] + bi[None, :, None, None]
        elif t == "HardSigmoid":
            r = np.clip(i[0] * a.get("alpha", 0.2) + a.get("beta", 0.5), 0, 1)
        elif t == "HardSwish":
            r = i[0] * np.clip(i[0] / 6.0 + 0.5, 0, 1)
        elif t == "Relu":
            r = np.maximum(i[0], 0)
        elif t == "Mul":
            r = i[0] * i[1]
        elif t == "Add":
            r = i[0] + i[1]
        elif t == "Div":
            r = i[0] / i[1]
        elif t == "Clip":
            lo = a.get("min", -np.inf) if len(i) < 2 or i[1] is None else i[1]
            hi = a.get("max", np.inf) if len(i) < 3 or i[2] is None else i[2]
            r = np.clip(i[0], lo, hi)
        elif t == "Cast":
            r = i[0].astype(np.float64) if a["to"] == onnx.TensorProto.FLOAT else i[0]
        elif t == "GlobalAveragePool":
            r = i[0].mean(axis=(2, 3), keepdims=True)
        elif t == "Flatten":
            ax = a.get("axis", 1)
            r = i[0].reshape(int(np.prod(i[0].shape[:ax])), -1)
        elif t == "Reshape":
            shp = [int(d) for d in i[1]]
            shp = [i[0].shape[k] if d == 0 else d for k, d in enumerate(shp)]
            r = i[0].reshape(shp)
        elif t == "MatMul":
            r = i[0] @ i[1]
        elif t == "Gemm":
            A, B = i[0], i[1]
            if a.get("transA", 0):
                A = A.T
            if a.get("transB", 0):
                B = B.T
            r = a.get("alpha", 1.0) * A @ B + (a.get("beta", 1.0) * i[2] if len(i) > 2 else 0)
        elif t == "Softmax":
            ax = a.get("axis", -1 if m.opset_import[0].version >= 13 else 1)
            e = np.exp(i[0] - i[0].max(axis=ax, keepdims=True))
            r = e / e.sum(axis=ax, keepdims=True)
        else:
            raise NotImplementedError(t)
        env[nd.output[0]] = r
    return env[m.graph.output[0].name]
