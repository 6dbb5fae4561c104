"""PyTorch eager peer of `RlhfSharp.Bench gpu`: the same Qwen2-shaped decoder (RMSNorm, RoPE,
grouped-query attention, SwiGLU, tied embeddings), the same shapes and the same steps, timed the
same way. Prints one JSON line per case.

train: forward, cross-entropy over next tokens, backward, AdamW; bf16 autocast with fp32 weights
and optimizer state (our dtype: bf16). generate: greedy decoding with a KV cache."""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


class Block(torch.nn.Module):
    def __init__(self, c, h, kv, inter):
        super().__init__()
        self.h, self.kv, self.d = h, kv, c // h
        self.ln1 = torch.nn.RMSNorm(c, eps=1e-6)
        self.ln2 = torch.nn.RMSNorm(c, eps=1e-6)
        self.q = torch.nn.Linear(c, h * self.d, bias=True)
        self.k = torch.nn.Linear(c, kv * self.d, bias=True)
        self.v = torch.nn.Linear(c, kv * self.d, bias=True)
        self.o = torch.nn.Linear(h * self.d, c, bias=False)
        self.gate = torch.nn.Linear(c, inter, bias=False)
        self.up = torch.nn.Linear(c, inter, bias=False)
        self.down = torch.nn.Linear(inter, c, bias=False)

    def forward(self, x, cos, sin, cache=None):
        b, t, _ = x.shape
        y = self.ln1(x)
        q = self.q(y).view(b, t, self.h, self.d).transpose(1, 2)
        k = self.k(y).view(b, t, self.kv, self.d).transpose(1, 2)
        v = self.v(y).view(b, t, self.kv, self.d).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache is not None:
            k = torch.cat([cache[0], k], 2)
            v = torch.cat([cache[1], v], 2)
        new_cache = (k, v)
        k = k.repeat_interleave(self.h // self.kv, 1)
        v = v.repeat_interleave(self.h // self.kv, 1)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=cache is None)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, -1))
        y = self.ln2(x)
        return x + self.down(F.silu(self.gate(y)) * self.up(y)), new_cache


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class Model(torch.nn.Module):
    def __init__(self, vocab, c, layers, h, kv, inter, max_pos):
        super().__init__()
        self.emb = torch.nn.Embedding(vocab, c)
        self.blocks = torch.nn.ModuleList([Block(c, h, kv, inter) for _ in range(layers)])
        self.norm = torch.nn.RMSNorm(c, eps=1e-6)
        d = c // h
        inv = 1.0 / (1000000.0 ** (torch.arange(0, d // 2, dtype=torch.float32) * 2 / d))
        ang = torch.arange(max_pos, dtype=torch.float32)[:, None] * inv[None, :]
        self.register_buffer("cos", ang.cos(), persistent=False)
        self.register_buffer("sin", ang.sin(), persistent=False)

    def forward(self, ids, start=0, caches=None):
        x = self.emb(ids)
        t = ids.shape[1]
        cos, sin = self.cos[start:start + t], self.sin[start:start + t]
        new = []
        for i, blk in enumerate(self.blocks):
            x, c = blk(x, cos, sin, None if caches is None else caches[i])
            new.append(c)
        return self.norm(x) @ self.emb.weight.T, new


def timed(fn, runs):
    fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return times[0], times[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--vocab", type=int, default=151936)
    p.add_argument("--hidden", type=int, default=896)
    p.add_argument("--layers", type=int, default=24)
    p.add_argument("--heads", type=int, default=14)
    p.add_argument("--kv_heads", type=int, default=2)
    p.add_argument("--intermediate", type=int, default=4864)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--gen_batch", type=int, default=64)
    p.add_argument("--prompt", type=int, default=16)
    p.add_argument("--new_tokens", type=int, default=128)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dtype", default="bf16")
    a = p.parse_args()
    dev = torch.device("cuda")
    torch.manual_seed(1)
    model = Model(a.vocab, a.hidden, a.layers, a.heads, a.kv_heads, a.intermediate, a.seq + a.prompt + a.new_tokens).to(dev)
    params = sum(t.numel() for t in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    ids = torch.randint(0, a.vocab, (a.batch, a.seq), device=dev)
    amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.dtype == "bf16")

    def step():
        opt.zero_grad(set_to_none=True)
        with amp:
            logits, _ = model(ids)
        loss = F.cross_entropy(logits[:, :-1].float().reshape(-1, a.vocab), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()

    best, med = timed(step, a.runs)
    tokens = a.batch * a.seq
    print(json.dumps({"peer": "torch", "case": "gpu_train_step", "params": params, "batch": a.batch, "seq": a.seq,
                      "ms": med, "best_ms": best, "tokens_per_s": tokens / (med / 1000),
                      "mfu": 6 * params * tokens / (med / 1000) / 989e12, "torch": torch.__version__}), flush=True)

    prompt = torch.randint(0, a.vocab, (a.gen_batch, a.prompt), device=dev)

    @torch.no_grad()
    def generate():
        with amp:
            logits, caches = model(prompt)
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            for i in range(a.new_tokens - 1):
                logits, caches = model(nxt, a.prompt + i, caches)
                nxt = logits[:, -1].argmax(-1, keepdim=True)

    best, med = timed(generate, a.runs)
    print(json.dumps({"peer": "torch", "case": "gpu_generate", "batch": a.gen_batch, "new_tokens": a.new_tokens,
                      "ms": med, "best_ms": best, "tokens_per_s": a.gen_batch * a.new_tokens / (med / 1000)}), flush=True)


if __name__ == "__main__":
    main()
