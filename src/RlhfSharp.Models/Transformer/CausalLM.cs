using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// A decoder-only language model: <see cref="TransformerBody"/> plus the LM head (GPT2LMHeadModel,
/// LlamaForCausalLM, Qwen2ForCausalLM). With tied embeddings the head reuses the token embedding
/// matrix and has no weight of its own.
/// </summary>
public sealed class CausalLM : Module
{
    public CausalLM(ModelConfig cfg, Generator? init = null)
    {
        Config = cfg;
        Body = RegisterModule(cfg.Family == ModelFamily.Gpt2 ? "transformer" : "model", new TransformerBody(cfg, init));
        if (!cfg.TieWordEmbeddings)
            LmHead = RegisterModule("lm_head", new Linear(cfg.HiddenSize, cfg.VocabSize, bias: false, init));
    }

    public ModelConfig Config { get; }

    public TransformerBody Body { get; }

    /// <summary>The untied output projection, or null when tied to the token embedding.</summary>
    public Linear? LmHead { get; }

    // ids [B, T], mask [B, past+T] -> logits [B, T, V]
    public Tensor Forward(Tensor ids, Tensor? attentionMask = null, KvCache? cache = null) =>
        Logits(Body.Forward(ids, attentionMask, cache));

    // hidden [B, T, C] -> logits [B, T, V]
    public Tensor Logits(Tensor hidden) =>
        LmHead is not null ? LmHead.Forward(hidden) : F.Linear(hidden, Body.TokenEmbedding.Weight.Value);

    /// <summary>A cache sized for <paramref name="batch"/> sequences of up to <paramref name="maxLength"/> tokens.</summary>
    public KvCache NewCache(int batch, int maxLength) =>
        new(Config.NumLayers, batch, Config.NumKeyValueHeads, Math.Min(maxLength, Config.MaxPositions), Config.HeadDim, Device);

    /// <summary>Turns adapters off (true) or on (false) in every LoRA layer; returns how many layers changed.</summary>
    public int SetAdaptersEnabled(bool enabled)
    {
        int n = 0;
        foreach (var (_, m) in NamedModules())
        {
            if (m is Linear { Lora: { } lora })
            {
                lora.Enabled = enabled;
                n++;
            }
        }
        return n;
    }
}
