"""PyTorch peer of `RlhfSharp.Bench dp`: data-parallel training on the CPU with torch.distributed
on the gloo backend, N processes on 127.0.0.1 (torch.multiprocessing).

--case allreduce: median ms of an in-place float32 all_reduce (sum) per size, with algbw (bytes /
time) and busbw (algbw * 2(N-1)/N, the NCCL-tests convention).

--case step: a Llama-shaped decoder (RMSNorm, RoPE, grouped-query attention with N/2 key-value
heads, SwiGLU MLP of 3x the width, tied embeddings, no biases: the parameters of our CausalLM)
wrapped in DistributedDataParallel (bucket_cap_mb as given) when N > 1; one global batch of random
tokens, the same on every rank, each rank training on its contiguous share of the rows; forward,
cross-entropy, backward, AdamW. DDP sums the gradients in buckets during the backward pass, the
first 1 MiB of them (torch's default) in a bucket of its own.

Timing as on our side: a barrier before each run, each run's time is the slowest rank's (an
all_reduce MAX), warm-up of 2 runs and ~0.2 s, then at least 5 runs and ~1 s (all-reduce) or ~3 s
(step, at most 30); "ms" is the median. Rank 0 prints one JSON line per case with "peer": "torch".
"""
import os


from openblas_env import choose_openblas_coretype

choose_openblas_coretype()
# Every rank is on this machine; gloo must not look for another network interface.
os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import socket  # noqa: E402
import time  # noqa: E402

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DEFAULT_SIZES_KIB = "4,64,1024,4096,16384,65536"


class RMSNorm(torch.nn.Module):
    # torch.nn.RMSNorm arrived in torch 2.4; Debian's torch is older.
    def __init__(self, c, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = torch.nn.Parameter(torch.ones(c))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class Block(torch.nn.Module):
    def __init__(self, c, h, kv, inter):
        super().__init__()
        self.h, self.kv, self.d = h, kv, c // h
        self.ln1 = RMSNorm(c)
        self.ln2 = RMSNorm(c)
        self.q = torch.nn.Linear(c, h * self.d, bias=False)
        self.k = torch.nn.Linear(c, kv * self.d, bias=False)
        self.v = torch.nn.Linear(c, kv * self.d, bias=False)
        self.o = torch.nn.Linear(h * self.d, c, bias=False)
        self.gate = torch.nn.Linear(c, inter, bias=False)
        self.up = torch.nn.Linear(c, inter, bias=False)
        self.down = torch.nn.Linear(inter, c, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        y = self.ln1(x)
        q = rope(self.q(y).view(b, t, self.h, self.d).transpose(1, 2), cos, sin)
        k = rope(self.k(y).view(b, t, self.kv, self.d).transpose(1, 2), cos, sin)
        v = self.v(y).view(b, t, self.kv, self.d).transpose(1, 2)
        k = k.repeat_interleave(self.h // self.kv, 1)
        v = v.repeat_interleave(self.h // self.kv, 1)
        if hasattr(F, "scaled_dot_product_attention"):
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            s = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.d))
            a = torch.softmax(s + mask, -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, t, -1))
        y = self.ln2(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y))


class Model(torch.nn.Module):
    def __init__(self, vocab, c, layers, h, kv, inter, max_pos):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, c)
        self.blocks = torch.nn.ModuleList([Block(c, h, kv, inter) for _ in range(layers)])
        self.norm = RMSNorm(c)
        d = c // h
        inv = 1.0 / (10000.0 ** (torch.arange(0, d // 2, dtype=torch.float32) * 2 / d))
        ang = torch.arange(max_pos, dtype=torch.float32)[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos(), persistent=False)
        self.register_buffer("sin", ang.sin(), persistent=False)
        # Additive causal mask (gloo broadcasts no bool buffers when DDP syncs the module).
        mask = torch.full((max_pos, max_pos), float("-inf")).triu(1)
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.emb(ids)
        cos, sin, mask = self.cos[:t], self.sin[:t], self.mask[:t, :t]
        for blk in self.blocks:
            x = blk(x, cos, sin, mask)
        return self.norm(x) @ self.emb.weight.T


def share(total, rank, size):
    # The first total mod N ranks take one row more, as on our side.
    per, extra = divmod(total, size)
    return rank * per + min(rank, extra), per + (1 if rank < extra else 0)


def slowest_rank(fn, world, target_s, min_runs=5, max_runs=200, reset=None):
    def once():
        if reset is not None:
            reset()
        if world > 1:
            dist.barrier()
        t0 = time.perf_counter()
        fn()
        ms = (time.perf_counter() - t0) * 1000
        if world > 1:
            t = torch.tensor([ms], dtype=torch.float64)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            ms = t.item()
        return ms

    warm, i = 0.0, 0
    while i < 2 or warm < 0.2:
        warm += once() / 1000
        i += 1
    times, total = [], 0.0
    while len(times) < min_runs or (len(times) < max_runs and total < target_s):
        ms = once()
        times.append(ms)
        total += ms / 1000
    times.sort()
    return times[0], times[len(times) // 2], len(times)


def run_allreduce(rank, world, a):
    for kib in (int(s) for s in a.sizes_kib.split(",") if s.strip()):
        nbytes = kib * 1024
        data = torch.full((nbytes // 4,), float(rank + 1), dtype=torch.float32)
        dist.all_reduce(data)
        expected = world * (world + 1) / 2
        if data[0].item() != expected or data[-1].item() != expected:
            raise RuntimeError(f"all_reduce of {nbytes} bytes gave {data[0].item()}, expected {expected}")
        best, med, runs = slowest_rank(lambda: dist.all_reduce(data), world, 1.0, reset=lambda: data.fill_(1.0))
        algbw = nbytes / (med / 1000) / 1e9
        if rank == 0:
            print(json.dumps({"peer": "torch", "case": "allreduce", "backend": "gloo", "ranks": world, "bytes": nbytes,
                              "ms": round(med, 4), "best_ms": round(best, 4), "runs": runs,
                              "algbw_gbs": round(algbw, 3), "busbw_gbs": round(algbw * 2 * (world - 1) / world, 3)}),
                  flush=True)


def run_step(rank, world, a):
    torch.manual_seed(1)
    heads, kv = a.heads, max(1, a.heads // 2)
    model = Model(a.vocab, a.hidden, a.layers, heads, kv, a.hidden * 3, a.seq)
    params = sum(p.numel() for p in model.parameters())
    net = model
    if world > 1:
        # The buffers (rotary tables, mask) are constants: no broadcast before each forward.
        net = torch.nn.parallel.DistributedDataParallel(model, bucket_cap_mb=a.bucket_mb, broadcast_buffers=False)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(2)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq), generator=gen)
    start, rows = share(a.batch, rank, world)
    local = ids[start:start + rows].contiguous()
    targets = local[:, 1:].reshape(-1)
    # DDP averages the ranks' gradients; scaled so the result is the global batch's gradient.
    weight = rows * world / a.batch

    def step():
        opt.zero_grad(set_to_none=True)
        logits = net(local)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, a.vocab), targets) * weight
        loss.backward()
        opt.step()

    best, med, runs = slowest_rank(step, world, 3.0, max_runs=30)
    if rank == 0:
        line = {"peer": "torch", "case": "dp_step", "backend": "gloo" if world > 1 else "none", "ranks": world,
                "threads": torch.get_num_threads(), "params": params, "batch": a.batch, "seq": a.seq,
                "ms": round(med, 3), "best_ms": round(best, 3), "runs": runs,
                "tokens_per_s": round(a.batch * a.seq / (med / 1000), 3), "overlap": world > 1,
                "torch": torch.__version__}
        print(json.dumps(line), flush=True)


def worker(rank, world, port, a):
    torch.set_num_threads(a.threads)
    if world > 1:
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
    try:
        (run_allreduce if a.case == "allreduce" else run_step)(rank, world, a)
    finally:
        if world > 1:
            dist.destroy_process_group()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", required=True, choices=["allreduce", "step"])
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="torch threads per rank")
    p.add_argument("--sizes-kib", dest="sizes_kib", default=DEFAULT_SIZES_KIB)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--vocab", type=int, default=2048)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--bucket-mb", dest="bucket_mb", type=int, default=25)
    a = p.parse_args()
    if a.ranks < 1 or a.threads < 1:
        p.error("--ranks and --threads must be at least 1")
    if a.case == "step" and a.batch < a.ranks:
        p.error(f"--batch {a.batch} is the global batch, shared over {a.ranks} ranks; it must be at least {a.ranks}")
    if a.ranks == 1:
        worker(0, 1, 0, a)
    else:
        mp.spawn(worker, args=(a.ranks, free_port(), a), nprocs=a.ranks, join=True)


if __name__ == "__main__":
    main()
