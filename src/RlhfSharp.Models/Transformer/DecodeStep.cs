using System.Runtime.CompilerServices;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Kernels;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// The single-token forward of <see cref="CausalLM"/> on the CPU, for decoding with a
/// <see cref="KvCache"/>: the same arithmetic as <see cref="CausalLM.Forward"/> with T = 1, written
/// out layer by layer over buffers kept from step to step (no tensors, shapes or closures per token),
/// with the residual adds fused into the output projections and the weights read where they lie.
/// Built by <see cref="TryCreate"/> only where it applies (CPU, fp32 parameters, no active LoRA
/// delta, a supported activation); otherwise callers keep the general forward.
/// </summary>
internal sealed class DecodeStep
{
    private readonly CausalLM _model;
    private readonly ModelConfig _cfg;
    private readonly KvCache _cache;
    private readonly int _b, _c, _h, _hkv, _d, _f, _v;
    private readonly bool _gpt2;
    private readonly float[] _x, _h1, _q, _k, _vv, _att, _f1, _f2, _scores;
    private readonly int[] _positions;

    // Weights copied into decoding panels (see DecodePackedWeight), keyed by the module reading
    // them; empty when the model is too large to hold a second copy, then weights are read in place.
    private readonly Dictionary<Module, DecodePackedWeight> _packed;

    // Each model's packing between generation calls: taken by a decoder while it runs and given back
    // by Release, so the next call refreshes the panels in place instead of allocating them again
    // (a concurrent call on the same model finds the slot empty and packs its own).
    private static readonly ConditionalWeakTable<CausalLM, StrongBox<Dictionary<Module, DecodePackedWeight>?>> Idle = new();

    /// <summary>Models with at most this many weights in their matrices get packed copies for decoding.</summary>
    internal const long DefaultPackBudget = 64L << 20;

    private DecodeStep(CausalLM model, KvCache cache, long packBudget)
    {
        _model = model;
        _cfg = model.Config;
        _cache = cache;
        _b = cache.Batch;
        _c = _cfg.HiddenSize;
        _h = _cfg.NumHeads;
        _hkv = _cfg.NumKeyValueHeads;
        _d = _cfg.HeadDim;
        _f = _cfg.IntermediateSize;
        _v = _cfg.VocabSize;
        _gpt2 = _cfg.Family == ModelFamily.Gpt2;
        _x = new float[_b * _c];
        _h1 = new float[_b * _c];
        _q = new float[_b * (_gpt2 ? 3 * _h * _d : _h * _d)];
        _k = new float[_b * _hkv * _d];
        _vv = new float[_b * _hkv * _d];
        _att = new float[_b * _h * _d];
        _f1 = new float[_b * _f];
        _f2 = new float[_b * _f];
        _scores = new float[Math.Max(1, Engine.Threads) * cache.MaxLength];
        _positions = new int[_b];
        Logits = new float[_b * _v];
        long weights = model.NamedModules().Sum(m => m.Module is Linear l ? (long)l.Weight.Numel : 0) + (model.LmHead is null ? (long)_v * _c : 0);
        _packed = (weights <= packBudget ? Interlocked.Exchange(ref Idle.GetOrCreateValue(model).Value, null) : null) ?? new(ReferenceEqualityComparer.Instance);
        if (weights <= packBudget)
        {
            foreach (var (_, m) in model.NamedModules())
            {
                if (m is Linear l)
                    Pack(l, l.Weight.Value, l.Bias?.Value);
            }
            if (model.LmHead is null)
                Pack(model.Body.TokenEmbedding, model.Body.TokenEmbedding.Weight.Value, null);
        }
    }

    private void Pack(Module m, Tensor weight, Tensor? bias)
    {
        if (_packed.TryGetValue(m, out var p) && p.N == weight.Size(0) && p.K == weight.Size(1) && p.HasBias == (bias is not null))
            p.Refresh(weight, bias);
        else
            _packed[m] = new DecodePackedWeight(weight, bias);
    }

    /// <summary>Keeps this decoder's packed weights for the model's next generation call; the decoder must not run again.</summary>
    public void Release()
    {
        if (_packed.Count > 0)
            Idle.GetOrCreateValue(_model).Value = _packed;
    }

    /// <summary>Whether the weights were copied into decoding panels.</summary>
    internal bool Packed => _packed.Count > 0;

    /// <summary>Logits of the last step's tokens: [B, V].</summary>
    public float[] Logits { get; }

    /// <summary>
    /// A decoder for <paramref name="model"/> writing into <paramref name="cache"/>, or null where the
    /// general forward must run. Weights are packed for decoding when the model's matrices hold at
    /// most <paramref name="packBudget"/> values, else read in place.
    /// </summary>
    public static DecodeStep? TryCreate(CausalLM model, KvCache cache, long packBudget = DefaultPackBudget)
    {
        if (!model.Device.IsCpu || model.Config.HiddenAct is not ("silu" or "relu" or "gelu_new" or "gelu_pytorch_tanh"))
            return null;
        foreach (var (_, p) in model.NamedParameters())
        {
            var t = p.Value;
            if (t.Dtype != DType.Float32 || t.IsOnDevice || !t.IsContiguous)
                return null;
        }
        foreach (var (_, m) in model.NamedModules())
        {
            if (m is Linear { Lora: { Enabled: true, Merged: false } })
                return null;
        }
        return new DecodeStep(model, cache, packBudget);
    }

    /// <summary>
    /// One token per row at position cache.Length: ids [B]; mask [B, maskStride] whose first
    /// cache.Length + 1 columns are the attention mask over the past and the new token (1 = real).
    /// Fills <see cref="Logits"/> and advances the cache by one.
    /// </summary>
    public void Run(ReadOnlySpan<int> ids, float[] mask, int maskStride)
    {
        int past = _cache.Length, len = past + 1;
        if (len > _cache.MaxLength)
            throw new InvalidOperationException($"KV cache holds {_cache.MaxLength} positions; {past} are used and 1 more was requested");
        for (int r = 0; r < _b; r++)
        {
            // position = real tokens before this one (0 for padding), as TransformerBody.PositionIds.
            var row = mask.AsSpan(r * maskStride, len);
            int count = 0;
            for (int j = 0; j < past; j++)
            {
                if (row[j] != 0f)
                    count++;
            }
            _positions[r] = row[past] != 0f ? count : 0;
        }
        var body = _model.Body;
        DecodeKernels.Gather(body.TokenEmbedding.Weight.Value, ids, _x);
        if (body.PositionEmbedding is not null)
            DecodeKernels.Gather(body.PositionEmbedding.Weight.Value, _positions, _x, accumulate: true);
        var blocks = body.Blocks.Items;
        for (int layer = 0; layer < blocks.Count; layer++)
        {
            var block = blocks[layer];
            var (kc, vc) = _cache.Layer(layer);
            Norm(block.Norm1, _x, _h1);
            var a = block.Attn;
            if (_gpt2)
            {
                Linear(a.CAttn!, _h1, _q, false);                                    // [B, 3C]
                int s = 3 * _h * _d;
                DecodeKernels.WriteCache(_q, _h * _d, s, kc, past);
                DecodeKernels.WriteCache(_q, 2 * _h * _d, s, vc, past);
                DecodeKernels.Attend(_q, 0, s, _h, kc, vc, len, mask, maskStride, _att, _scores);
                Linear(a.CProj!, _att, _x, true);                                     // x += attn
            }
            else
            {
                Linear(a.QProj!, _h1, _q, false);                                     // [B, H·D]
                Linear(a.KProj!, _h1, _k, false);                                     // [B, Hkv·D]
                Linear(a.VProj!, _h1, _vv, false);
                var rope = body.Rope!;
                DecodeKernels.Rope(_q, 0, _h * _d, _h, _positions, rope);
                DecodeKernels.Rope(_k, 0, _hkv * _d, _hkv, _positions, rope);
                DecodeKernels.WriteCache(_k, 0, _hkv * _d, kc, past);
                DecodeKernels.WriteCache(_vv, 0, _hkv * _d, vc, past);
                DecodeKernels.Attend(_q, 0, _h * _d, _h, kc, vc, len, mask, maskStride, _att, _scores);
                Linear(a.OProj!, _att, _x, true);
            }
            Norm(block.Norm2, _x, _h1);
            var mlp = block.Mlp;
            if (mlp.CFc is not null)
            {
                Linear(mlp.CFc, _h1, _f1, false);                                     // [B, F]
                Activate(_f1);
                Linear(mlp.CProj!, _f1, _x, true);                                    // x += mlp
            }
            else
            {
                Linear(mlp.GateProj!, _h1, _f1, false);
                Linear(mlp.UpProj!, _h1, _f2, false);
                if (_cfg.HiddenAct == "silu")
                {
                    DecodeKernels.SwiGlu(_f1, _f2, _b * _f, _f1);
                }
                else
                {
                    Activate(_f1);
                    DecodeKernels.Multiply(_f1, _f2, _b * _f);
                }
                Linear(mlp.DownProj!, _f1, _x, true);
            }
        }
        _cache.Advance(1);
        Norm(body.FinalNormModule, _x, _h1);
        if (_model.LmHead is not null)
            Linear(_model.LmHead, _h1, Logits, false);
        else if (_packed.TryGetValue(body.TokenEmbedding, out var tied))
            tied.Forward(_h1, _b, Logits);
        else
            DecodeMatmul.Forward(_h1, _b, body.TokenEmbedding.Weight.Value, null, Logits);  // [V, C] tied head
    }

    private void Linear(Linear l, float[] x, float[] y, bool accumulate)
    {
        if (_packed.TryGetValue(l, out var packed))
            packed.Forward(x, _b, y, accumulate);
        else
            DecodeMatmul.Forward(x, _b, l.Weight.Value, l.Bias?.Value, y, accumulate);
    }

    private void Norm(Module norm, float[] x, float[] y)
    {
        if (norm is RmsNorm rms)
            DecodeKernels.RmsNorm(x, _b, rms.Weight.Value, _cfg.NormEps, y);
        else
        {
            var ln = (LayerNorm)norm;
            DecodeKernels.LayerNorm(x, _b, ln.Weight.Value, ln.Bias.Value, _cfg.NormEps, y);
        }
    }

    private void Activate(float[] x)
    {
        int n = _b * _f;
        switch (_cfg.HiddenAct)
        {
            case "silu":
                DecodeKernels.Silu(x, n);
                break;
            case "relu":
                DecodeKernels.Relu(x, n);
                break;
            default:
                DecodeKernels.GeluTanh(x, n);
                break;
        }
    }
}
