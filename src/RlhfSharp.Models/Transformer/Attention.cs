using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// Causal multi-head self-attention for both families. GPT-2 projects q, k, v with one fused
/// <c>c_attn</c> and has no rotary embedding; the Llama family has separate q/k/v/o projections,
/// RoPE and grouped-query attention (Hkv key/value heads shared by H/Hkv query heads each).
/// </summary>
public sealed class Attention : Module
{
    private readonly ModelConfig _cfg;
    private readonly int _layer;

    public Attention(ModelConfig cfg, int layer, Generator? init)
    {
        _cfg = cfg;
        _layer = layer;
        int c = cfg.HiddenSize, d = cfg.HeadDim;
        // GPT-2 scales the residual projections' init by 1/sqrt(2·layers).
        float projStd = 0.02f / MathF.Sqrt(2f * cfg.NumLayers);
        if (cfg.Family == ModelFamily.Gpt2)
        {
            CAttn = RegisterModule("c_attn", new Linear(c, 3 * c, bias: true, init));
            CProj = RegisterModule("c_proj", new Linear(c, c, bias: true, init, projStd));
        }
        else
        {
            QProj = RegisterModule("q_proj", new Linear(c, cfg.NumHeads * d, cfg.AttentionBias, init));
            KProj = RegisterModule("k_proj", new Linear(c, cfg.NumKeyValueHeads * d, cfg.AttentionBias, init));
            VProj = RegisterModule("v_proj", new Linear(c, cfg.NumKeyValueHeads * d, cfg.AttentionBias, init));
            OProj = RegisterModule("o_proj", new Linear(cfg.NumHeads * d, c, bias: false, init, projStd));
        }
    }

    public Linear? CAttn { get; }

    public Linear? CProj { get; }

    public Linear? QProj { get; }

    public Linear? KProj { get; }

    public Linear? VProj { get; }

    public Linear? OProj { get; }

    // x [B, T, C] -> [B, T, C]
    public Tensor Forward(Tensor x, AttentionContext ctx)
    {
        int b = x.Size(0), t = x.Size(1);
        int h = _cfg.NumHeads, hkv = _cfg.NumKeyValueHeads, d = _cfg.HeadDim;
        Tensor q, k, v;
        if (CAttn is not null)
        {
            var qkv = CAttn.Forward(x);                                       // [B, T, 3C]
            q = qkv.Narrow(2, 0, h * d).Reshape(b, t, h, d).Transpose(1, 2);      // [B, H, T, D]
            k = qkv.Narrow(2, h * d, h * d).Reshape(b, t, h, d).Transpose(1, 2);
            v = qkv.Narrow(2, 2 * h * d, h * d).Reshape(b, t, h, d).Transpose(1, 2);
        }
        else
        {
            q = QProj!.Forward(x).Reshape(b, t, h, d).Transpose(1, 2);         // [B, H, T, D]
            k = KProj!.Forward(x).Reshape(b, t, hkv, d).Transpose(1, 2);       // [B, Hkv, T, D]
            v = VProj!.Forward(x).Reshape(b, t, hkv, d).Transpose(1, 2);
            q = F.Rope(q, ctx.Positions, ctx.Rope!);
            k = F.Rope(k, ctx.Positions, ctx.Rope!);
        }
        if (ctx.Cache is not null)
            (k, v) = ctx.Cache.Append(_layer, k, v);                          // [B, Hkv, Tpast+T, D]

        var y = F.ScaledDotProductAttention(q, k, v, causal: true, keyPaddingMask: ctx.KeyMask); // [B, H, T, D]
        y = y.Transpose(1, 2).Reshape(b, t, h * d);                            // [B, T, C]
        return (CProj ?? OProj)!.Forward(y);
    }
}
