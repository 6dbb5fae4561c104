using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// A pre-norm transformer block: x + attn(norm₁(x)), then + mlp(norm₂(x)). GPT-2 names its
/// parts ln_1/attn/ln_2/mlp with LayerNorm; Llama input_layernorm/self_attn/post_attention_layernorm/mlp with RMSNorm.
/// </summary>
public sealed class Block : Module
{
    private readonly Func<Tensor, Tensor> _norm1;
    private readonly Func<Tensor, Tensor> _norm2;

    public Block(ModelConfig cfg, int layer, Generator? init)
    {
        if (cfg.Family == ModelFamily.Gpt2)
        {
            var ln1 = RegisterModule("ln_1", new LayerNorm(cfg.HiddenSize, cfg.NormEps));
            Attn = RegisterModule("attn", new Attention(cfg, layer, init));
            var ln2 = RegisterModule("ln_2", new LayerNorm(cfg.HiddenSize, cfg.NormEps));
            Mlp = RegisterModule("mlp", new Mlp(cfg, init));
            _norm1 = ln1.Forward;
            _norm2 = ln2.Forward;
            Norm1 = ln1;
            Norm2 = ln2;
        }
        else
        {
            var n1 = RegisterModule("input_layernorm", new RmsNorm(cfg.HiddenSize, cfg.NormEps));
            Attn = RegisterModule("self_attn", new Attention(cfg, layer, init));
            var n2 = RegisterModule("post_attention_layernorm", new RmsNorm(cfg.HiddenSize, cfg.NormEps));
            Mlp = RegisterModule("mlp", new Mlp(cfg, init));
            _norm1 = n1.Forward;
            _norm2 = n2.Forward;
            Norm1 = n1;
            Norm2 = n2;
        }
    }

    public Attention Attn { get; }

    /// <summary>The norm before attention: <see cref="LayerNorm"/> (GPT-2) or <see cref="RmsNorm"/>.</summary>
    public Module Norm1 { get; }

    /// <summary>The norm before the MLP.</summary>
    public Module Norm2 { get; }

    public Mlp Mlp { get; }

    // x [B, T, C] -> [B, T, C]
    public Tensor Forward(Tensor x, AttentionContext ctx)
    {
        x = x.Add(Attn.Forward(_norm1(x), ctx));
        return x.Add(Mlp.Forward(_norm2(x)));
    }
}
