"""PyTorch peer of `RlhfSharp.Bench ops`: the same cases and shapes, one JSON object per case.

Forward and backward are timed separately (backward of one forward with a fixed upstream
gradient); the median over --repeat runs after --warmup runs is reported. Usage:
    python3 torch_ops.py [--threads N] [--repeat N] [--warmup N] [--case NAME ...]
"""
import os


from openblas_env import choose_openblas_coretype

choose_openblas_coretype()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def attention(q, k, v):
    # Causal attention; torch.nn.functional.scaled_dot_product_attention where available (torch >= 2.0).
    if hasattr(F, "scaled_dot_product_attention"):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    t = q.shape[-2]
    s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(q.shape[-1]))
    mask = torch.ones(t, t, dtype=torch.bool).triu(1)
    return torch.softmax(s.masked_fill(mask, float("-inf")), dim=-1) @ v


def cases(g):
    def param(*shape):
        return torch.randn(*shape, generator=g).requires_grad_()

    x = param(4096, 1024)
    yield "softmax", "[4096,1024]", lambda: torch.softmax(x, -1), torch.randn(4096, 1024, generator=g)
    x2, w, b = param(4096, 1024), param(1024), param(1024)
    yield "layer_norm", "[4096,1024]", lambda: F.layer_norm(x2, (1024,), w, b), torch.randn(4096, 1024, generator=g)
    q, k, v = param(4, 12, 256, 64), param(4, 12, 256, 64), param(4, 12, 256, 64)
    yield "attention", "B=4,H=12,T=256,D=64,causal", lambda: attention(q, k, v), torch.randn(4, 12, 256, 64, generator=g)
    logits = param(2048, 8192)
    targets = torch.randint(0, 8192, (2048,), generator=g)
    yield "cross_entropy", "[2048,8192]", lambda: F.cross_entropy(logits, targets), torch.tensor(1.0)
    logits3 = param(8, 256, 8192)
    ids = torch.randint(0, 8192, (8, 256), generator=g)
    yield "token_log_probs", "[8,256,8192]", (
        lambda: torch.log_softmax(logits3, -1).gather(-1, ids.unsqueeze(-1)).squeeze(-1)), torch.randn(8, 256, generator=g)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--case", action="append", default=[])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(1)
    for name, shape, forward, grad in cases(g):
        if args.case and name not in args.case:
            continue
        fwd, bwd = [], []
        for i in range(args.warmup + args.repeat):
            t0 = time.perf_counter()
            y = forward()
            t1 = time.perf_counter()
            y.backward(grad)
            t2 = time.perf_counter()
            if i >= args.warmup:
                fwd.append((t1 - t0) * 1e3)
                bwd.append((t2 - t1) * 1e3)
        print(json.dumps({"case": name, "impl": "torch", "shape": shape, "threads": args.threads,
                          "fwd_ms": round(statistics.median(fwd), 3), "bwd_ms": round(statistics.median(bwd), 3)}), flush=True)


if __name__ == "__main__":
    main()
