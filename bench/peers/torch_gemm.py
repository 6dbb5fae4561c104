"""PyTorch peer for `RlhfSharp.Bench gemm`: times C[m,n] = op(A)[m,k] @ op(B)[k,n] in fp32 on the CPU.

Prints one JSON line per case in the benchmark's format, with "impl": "torch". Timing matches the
C# side: warm-up (2 runs and ~0.2 s), then at least 5 runs and ~1 s (at most 50); "ms" is the best
run, "ms_median" the median.
"""
import argparse
import json
import os
import sys

from openblas_env import choose_openblas_coretype


def parse_args():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--m", type=int, required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--k", type=int, required=True)
    p.add_argument("--trans", default="NN", choices=["NN", "NT", "TN", "TT"])
    p.add_argument("--threads", type=int, default=os.cpu_count())
    return p.parse_args()


def loaded_blas():
    # Which BLAS the process mapped: Debian's torch links libblas.so.3, whose provider is chosen by
    # update-alternatives (the reference BLAS is ~50x slower than OpenBLAS).
    try:
        with open("/proc/self/maps") as f:
            maps = f.read()
    except OSError:
        return "unknown"
    for name in ("openblas", "mkl", "blis", "atlas"):
        if "lib" + name in maps:
            return name
    return "reference" if "libblas.so" in maps else "unknown"


def main():
    args = parse_args()
    choose_openblas_coretype()
    os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import time

    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    m, n, k = args.m, args.n, args.k
    trans_a, trans_b = args.trans[0] == "T", args.trans[1] == "T"
    # Stored layouts as on the C# side; .t() is a view, so BLAS gets the transpose flag.
    a = (torch.rand(k, m) * 2 - 1).t() if trans_a else torch.rand(m, k) * 2 - 1
    b = (torch.rand(n, k) * 2 - 1).t() if trans_b else torch.rand(k, n) * 2 - 1
    c = torch.empty(m, n)

    def run():
        torch.mm(a, b, out=c)

    start = time.perf_counter()
    runs = 0
    while runs < 2 or time.perf_counter() - start < 0.2:
        run()
        runs += 1
    times = []
    total = time.perf_counter()
    while len(times) < 5 or (len(times) < 50 and time.perf_counter() - total < 1.0):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    best, median = times[0], times[len(times) // 2]
    print(json.dumps({
        "case": "gemm", "impl": "torch", "m": m, "n": n, "k": k, "trans": args.trans,
        "threads": args.threads, "gflops": round(2.0 * m * n * k / (best * 1e6), 1),
        "ms": round(best, 3), "ms_median": round(median, 3), "runs": len(times), "stat": "best",
        "blas": loaded_blas(), "coretype": os.environ.get("OPENBLAS_CORETYPE", ""),
    }))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
