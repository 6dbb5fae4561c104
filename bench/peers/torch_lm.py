"""PyTorch peer of `RlhfSharp.Bench train-step --vs-torch`, `generate --vs-torch` and `peer-check`.

The modules mirror RlhfSharp.Models (src/RlhfSharp.Models/Transformer, Modules) op for op and use
the same parameter names, so our weights load into them by name:
  gpt2:  learned positions, pre-norm LayerNorm (weight and bias), fused c_attn, tanh GELU
         ("gelu_new"), biases on every linear layer, final ln_f;
  llama: RMSNorm x*rsqrt(mean(x^2)+eps)*w, RoPE with the half-split (rotate-half) layout and
         theta, grouped-query attention (query head h reads kv head h // (H/Hkv)), SwiGLU MLP
         down(silu(gate(x)) * up(x)), no biases.
The LM head is the token embedding when tied. Plain eager torch ops only.

Modes (one JSON line on stdout each):
  train     zero_grad, forward, cross-entropy on next tokens, backward, AdamW(lr 1e-3): times per step
  generate  under inference_mode: prefill the prompt, then a KV-cache decode loop writing each
            step's keys and values into per-layer buffers; every token drawn by torch.multinomial
            from softmax(logits / temperature) (no top-k/top-p, no EOS): times per run
  check     loads weights and token ids written by `RlhfSharp.Bench peer-check` and writes the
            logits (raw float32), the loss, and how far the KV-cache path's logits (prefill half,
            then one token per step) are from the full forward's

Usage:
  python3 torch_lm.py --mode train --family llama --hidden 256 --layers 6 --heads 8 --kv-heads 4
      --intermediate 768 --vocab 4096 --batch 8 --seq 128 --threads 2 --warmup 2 --runs 5
  python3 torch_lm.py --mode generate ... --batch 8 --prompt 16 --new-tokens 128
  python3 torch_lm.py --mode check --weights DIR
"""
import os

from openblas_env import choose_openblas_coretype

choose_openblas_coretype()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class Config:
    def __init__(self, family, vocab, hidden, layers, heads, kv_heads, intermediate, max_positions,
                 norm_eps=1e-5, rope_theta=10000.0, tie=True, act=None):
        self.family = family
        self.vocab = vocab
        self.hidden = hidden
        self.layers = layers
        self.heads = heads
        self.kv_heads = heads if family == "gpt2" else kv_heads
        self.intermediate = intermediate
        self.max_positions = max_positions
        self.norm_eps = norm_eps
        self.rope_theta = rope_theta
        self.tie = tie
        self.act = act or ("gelu_new" if family == "gpt2" else "silu")
        self.head_dim = hidden // heads


def activate(x, act):
    if act in ("gelu_new", "gelu_pytorch_tanh"):
        return F.gelu(x, approximate="tanh")
    if act == "gelu":
        return F.gelu(x)
    if act == "relu":
        return F.relu(x)
    return F.silu(x)


class RmsNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class Rope:
    """cos/sin tables [max_positions, D/2]; pair (i, i + D/2) rotated by p * theta^(-2i/D)."""

    def __init__(self, head_dim, max_positions, theta):
        inv = theta ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
        ang = torch.arange(max_positions, dtype=torch.float64)[:, None] * inv[None, :]
        self.cos = ang.cos().float()
        self.sin = ang.sin().float()

    def apply(self, x, start):
        # x [B, H, T, D] at positions start .. start+T-1
        t = x.shape[2]
        half = x.shape[3] // 2
        c = self.cos[start:start + t]
        s = self.sin[start:start + t]
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat((x1 * c - x2 * s, x2 * c + x1 * s), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        c, d = cfg.hidden, cfg.head_dim
        if cfg.family == "gpt2":
            self.c_attn = nn.Linear(c, 3 * c)
            self.c_proj = nn.Linear(c, c)
        else:
            self.q_proj = nn.Linear(c, cfg.heads * d, bias=False)
            self.k_proj = nn.Linear(c, cfg.kv_heads * d, bias=False)
            self.v_proj = nn.Linear(c, cfg.kv_heads * d, bias=False)
            self.o_proj = nn.Linear(cfg.heads * d, c, bias=False)

    def forward(self, x, rope, cache, start):
        # x [B, T, C]; cache None or (k_buf, v_buf) [B, Hkv, Tmax, D] holding positions < start
        cfg = self.cfg
        b, t, _ = x.shape
        h, hkv, d = cfg.heads, cfg.kv_heads, cfg.head_dim
        if cfg.family == "gpt2":
            q, k, v = self.c_attn(x).split(h * d, dim=2)
            q = q.view(b, t, h, d).transpose(1, 2)
            k = k.view(b, t, h, d).transpose(1, 2)
            v = v.view(b, t, h, d).transpose(1, 2)
        else:
            q = self.q_proj(x).view(b, t, h, d).transpose(1, 2)
            k = self.k_proj(x).view(b, t, hkv, d).transpose(1, 2)
            v = self.v_proj(x).view(b, t, hkv, d).transpose(1, 2)
            q = rope.apply(q, start)
            k = rope.apply(k, start)
        if cache is not None:
            kb, vb = cache
            kb[:, :, start:start + t] = k
            vb[:, :, start:start + t] = v
            k, v = kb[:, :, :start + t], vb[:, :, :start + t]
        if hkv != h:
            k = k.repeat_interleave(h // hkv, dim=1)
            v = v.repeat_interleave(h // hkv, dim=1)
        s = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(d))
        if t > 1:
            tk = k.shape[2]
            # query i sits at position tk - t + i and sees keys at positions <= it
            mask = torch.ones(t, tk, dtype=torch.bool).triu(tk - t + 1)
            s = s.masked_fill(mask, float("-inf"))
        y = torch.softmax(s, dim=-1) @ v
        y = y.transpose(1, 2).reshape(b, t, h * d)
        return self.c_proj(y) if cfg.family == "gpt2" else self.o_proj(y)


class Mlp(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.act = cfg.act
        c, f = cfg.hidden, cfg.intermediate
        if cfg.family == "gpt2":
            self.c_fc = nn.Linear(c, f)
            self.c_proj = nn.Linear(f, c)
        else:
            self.gate_proj = nn.Linear(c, f, bias=False)
            self.up_proj = nn.Linear(c, f, bias=False)
            self.down_proj = nn.Linear(f, c, bias=False)
        self.gpt2 = cfg.family == "gpt2"

    def forward(self, x):
        if self.gpt2:
            return self.c_proj(activate(self.c_fc(x), self.act))
        return self.down_proj(activate(self.gate_proj(x), self.act) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        if cfg.family == "gpt2":
            self.ln_1 = nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps)
            self.attn = Attention(cfg)
            self.ln_2 = nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps)
        else:
            self.input_layernorm = RmsNorm(cfg.hidden, cfg.norm_eps)
            self.self_attn = Attention(cfg)
            self.post_attention_layernorm = RmsNorm(cfg.hidden, cfg.norm_eps)
        self.mlp = Mlp(cfg)
        self.gpt2 = cfg.family == "gpt2"

    def forward(self, x, rope, cache, start):
        if self.gpt2:
            x = x + self.attn(self.ln_1(x), rope, cache, start)
            return x + self.mlp(self.ln_2(x))
        x = x + self.self_attn(self.input_layernorm(x), rope, cache, start)
        return x + self.mlp(self.post_attention_layernorm(x))


class Body(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gpt2 = cfg.family == "gpt2"
        if self.gpt2:
            self.wte = nn.Embedding(cfg.vocab, cfg.hidden)
            self.wpe = nn.Embedding(cfg.max_positions, cfg.hidden)
            self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
            self.ln_f = nn.LayerNorm(cfg.hidden, eps=cfg.norm_eps)
            self.rope = None
        else:
            self.embed_tokens = nn.Embedding(cfg.vocab, cfg.hidden)
            self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.layers)])
            self.norm = RmsNorm(cfg.hidden, cfg.norm_eps)
            self.rope = Rope(cfg.head_dim, cfg.max_positions, cfg.rope_theta)

    def token_embedding(self):
        return self.wte if self.gpt2 else self.embed_tokens

    def forward(self, ids, caches=None, start=0):
        t = ids.shape[1]
        if self.gpt2:
            x = self.wte(ids) + self.wpe(torch.arange(start, start + t))
            blocks, final = self.h, self.ln_f
        else:
            x = self.embed_tokens(ids)
            blocks, final = self.layers, self.norm
        for i, block in enumerate(blocks):
            x = block(x, self.rope, None if caches is None else caches[i], start)
        return final(x)


class CausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        body = Body(cfg)
        # Our CausalLM names its body "transformer" (gpt2) or "model" (llama).
        if cfg.family == "gpt2":
            self.transformer = body
        else:
            self.model = body
        self.lm_head = None if cfg.tie else nn.Linear(cfg.hidden, cfg.vocab, bias=False)
        std = 0.02
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    @property
    def body(self):
        return self.transformer if self.cfg.family == "gpt2" else self.model

    def forward(self, ids, caches=None, start=0):
        x = self.body(ids, caches, start)
        if self.lm_head is not None:
            return self.lm_head(x)
        return x @ self.body.token_embedding().weight.t()

    def new_caches(self, batch, max_len):
        cfg = self.cfg
        return [(torch.empty(batch, cfg.kv_heads, max_len, cfg.head_dim), torch.empty(batch, cfg.kv_heads, max_len, cfg.head_dim))
                for _ in range(cfg.layers)]


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def lm_loss(logits, ids):
    v = logits.shape[-1]
    return F.cross_entropy(logits[:, :-1].reshape(-1, v), ids[:, 1:].reshape(-1))


def timed(fn, warmup, runs):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def run_train(cfg, args):
    torch.manual_seed(1)
    model = CausalLM(cfg)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(2)
    ids = torch.randint(0, cfg.vocab, (args.batch, args.seq), generator=g)

    def step():
        opt.zero_grad()
        lm_loss(model(ids), ids).backward()
        opt.step()

    times = timed(step, args.warmup, args.runs)
    return {"mode": "train", "params": count_params(model), "batch": args.batch, "seq": args.seq, "times_ms": times}


def generate(model, prompt, new_tokens, temperature, g):
    b, p = prompt.shape
    caches = model.new_caches(b, p + new_tokens)
    out = torch.empty(b, new_tokens, dtype=torch.long)
    logps = torch.empty(b, new_tokens)
    logits = model(prompt, caches, 0)[:, -1]
    for step in range(new_tokens):
        lp = torch.log_softmax(logits / temperature, dim=-1)
        token = torch.multinomial(lp.exp(), 1, generator=g)        # [B, 1]
        out[:, step] = token[:, 0]
        logps[:, step] = lp.gather(1, token)[:, 0]
        if step + 1 < new_tokens:
            logits = model(token, caches, p + step)[:, -1]
    return out, logps


def run_generate(cfg, args):
    torch.manual_seed(1)
    model = CausalLM(cfg)
    model.eval()
    g = torch.Generator().manual_seed(2)
    prompt = torch.randint(0, cfg.vocab, (args.batch, args.prompt), generator=g)
    with torch.inference_mode():
        times = timed(lambda: generate(model, prompt, args.new_tokens, args.temperature, g), args.warmup, args.runs)
    return {"mode": "generate", "params": count_params(model), "batch": args.batch, "prompt": args.prompt,
            "new_tokens": args.new_tokens, "times_ms": times}


def run_check(args):
    # header.json: {"config": {...}, "tensors": [{"name", "shape", "offset"}], "ids": {"shape", "offset"}}
    # weights.bin: float32 little-endian tensors (ids as float32 holding integers); writes logits.bin.
    with open(os.path.join(args.weights, "header.json")) as f:
        header = json.load(f)
    c = header["config"]
    cfg = Config(c["family"], c["vocab"], c["hidden"], c["layers"], c["heads"], c["kv_heads"], c["intermediate"],
                 c["max_positions"], c["norm_eps"], c["rope_theta"], c["tie"], c["act"])
    raw = np.fromfile(os.path.join(args.weights, "weights.bin"), dtype="<f4")

    def take(entry):
        n = int(np.prod(entry["shape"]))
        return torch.from_numpy(raw[entry["offset"]:entry["offset"] + n].copy()).view(*entry["shape"])

    model = CausalLM(cfg)
    state = {e["name"]: take(e) for e in header["tensors"]}
    own = set(model.state_dict().keys())
    missing, extra = own - state.keys(), state.keys() - own
    if missing or extra:
        raise SystemExit(f"weights do not match the peer's parameters: missing {sorted(missing)}, unexpected {sorted(extra)}")
    model.load_state_dict(state, strict=False)
    ids = take(header["ids"]).long()
    model.eval()
    with torch.no_grad():
        logits = model(ids)
        loss = lm_loss(logits, ids)
        # The generate mode's path: prefill half the tokens into the cache, then one token at a time.
        b, t = ids.shape
        caches = model.new_caches(b, t)
        half = t // 2
        steps = [model(ids[:, :half], caches, 0)] + [model(ids[:, i:i + 1], caches, i) for i in range(half, t)]
        cached_diff = (torch.cat(steps, dim=1) - logits).abs().max().item()
    logits.numpy().astype("<f4").tofile(os.path.join(args.weights, "logits.bin"))
    return {"mode": "check", "params": count_params(model), "loss": float(loss), "cached_decode_max_diff": cached_diff}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["train", "generate", "check"], required=True)
    ap.add_argument("--family", choices=["gpt2", "llama"], default="llama")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=8)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=768)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--tied", type=int, choices=[0, 1], default=1)
    ap.add_argument("--norm-eps", type=float, default=1e-5)
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--max-positions", type=int, default=0, help="position table size (default: the longest sequence)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--prompt", type=int, default=16)
    ap.add_argument("--new-tokens", type=int, default=128)
    ap.add_argument("--temperature", type=float, default=1.0)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--weights", help="folder written by peer-check (check mode)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.mode == "check":
        if not args.weights:
            ap.error("--mode check needs --weights DIR")
        result = run_check(args)
    else:
        max_pos = args.max_positions or (args.seq if args.mode == "train" else args.prompt + args.new_tokens)
        cfg = Config(args.family, args.vocab, args.hidden, args.layers, args.heads, args.kv_heads, args.intermediate,
                     max_pos, args.norm_eps, args.rope_theta, bool(args.tied))
        result = run_train(cfg, args) if args.mode == "train" else run_generate(cfg, args)
    result.update({"impl": "torch", "family": args.family, "threads": args.threads, "torch": torch.__version__,
                   "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "")})
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
