using RlhfSharp.Models.Config;
using RlhfSharp.Text;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Foundation;

/// <summary>The shape of a model trained from scratch (used when no <c>model</c> folder is given).</summary>
public sealed class ModelInitSection : IValidatableConfig
{
    [ConfigKey("family", "llama (RMSNorm, RoPE, SwiGLU, GQA) or gpt2 (LayerNorm, learned positions, GELU)")]
    public string Family { get; set; } = "llama";

    [ConfigKey("hidden_size", "Width of the residual stream")]
    public int HiddenSize { get; set; } = 128;

    [ConfigKey("num_layers", "Transformer blocks")]
    public int NumLayers { get; set; } = 4;

    [ConfigKey("num_heads", "Attention heads")]
    public int NumHeads { get; set; } = 4;

    [ConfigKey("num_kv_heads", "Key/value heads (grouped-query attention; llama only)")]
    public int NumKvHeads { get; set; } = 2;

    [ConfigKey("intermediate_size", "Width of the feed-forward block")]
    public int IntermediateSize { get; set; } = 384;

    [ConfigKey("max_positions", "Longest sequence the model can see")]
    public int MaxPositions { get; set; } = 128;

    [ConfigKey("tie_word_embeddings", "Share the token embedding with the output projection")]
    public bool TieWordEmbeddings { get; set; } = true;

    public IEnumerable<string> Validate()
    {
        if (Family is not ("llama" or "gpt2"))
            yield return $"family must be llama or gpt2, got '{Family}'";
        if (HiddenSize <= 0 || NumLayers <= 0 || NumHeads <= 0 || NumKvHeads <= 0 || IntermediateSize <= 0 || MaxPositions <= 0)
            yield return "hidden_size, num_layers, num_heads, num_kv_heads, intermediate_size and max_positions must be positive";
        else if (HiddenSize % NumHeads != 0)
            yield return $"hidden_size {HiddenSize} must be divisible by num_heads {NumHeads}";
        else if (Family == "llama" && NumHeads % NumKvHeads != 0)
            yield return $"num_heads {NumHeads} must be a multiple of num_kv_heads {NumKvHeads}";
    }

    /// <summary>The HF config for this shape, with the tokenizer's vocabulary and special ids.</summary>
    public ModelConfig ToModelConfig(BpeTokenizer tokenizer) => new()
    {
        ModelType = Family,
        VocabSize = tokenizer.VocabSize,
        HiddenSize = HiddenSize,
        NumLayers = NumLayers,
        NumHeads = NumHeads,
        NumKeyValueHeads = Family == "gpt2" ? NumHeads : NumKvHeads,
        IntermediateSize = IntermediateSize,
        MaxPositions = MaxPositions,
        TieWordEmbeddings = TieWordEmbeddings,
        AttentionBias = Family == "gpt2",
        MlpBias = Family == "gpt2",
        HiddenAct = Family == "gpt2" ? "gelu_new" : "silu",
        NormEps = Family == "gpt2" ? 1e-5f : 1e-6f,
        BosTokenId = tokenizer.BosTokenId,
        EosTokenId = tokenizer.EosTokenId,
        PadTokenId = tokenizer.PadTokenId,
    };
}
