using RlhfSharp.Models.Config;

namespace RlhfSharp.Models.Tests;

/// <summary>Tiny configurations of each supported family, small enough for millisecond tests.</summary>
internal static class TinyModels
{
    public static ModelConfig Llama(bool tied = false, int kvHeads = 2, bool qkvBias = false, string type = "llama") => new()
    {
        ModelType = type,
        VocabSize = 37,
        HiddenSize = 16,
        NumLayers = 2,
        NumHeads = 4,
        NumKeyValueHeads = kvHeads,
        IntermediateSize = 24,
        MaxPositions = 64,
        NormEps = 1e-6f,
        RopeTheta = 10000f,
        TieWordEmbeddings = tied,
        AttentionBias = qkvBias,
        HiddenAct = "silu",
        EosTokenId = 2,
    };

    public static ModelConfig Gpt2() => new()
    {
        ModelType = "gpt2",
        VocabSize = 41,
        HiddenSize = 16,
        NumLayers = 2,
        NumHeads = 2,
        NumKeyValueHeads = 2,
        IntermediateSize = 64,
        MaxPositions = 64,
        NormEps = 1e-5f,
        TieWordEmbeddings = true,
        AttentionBias = true,
        MlpBias = true,
        HiddenAct = "gelu_new",
        EosTokenId = 40,
    };

    public static IEnumerable<object[]> All() =>
    [
        ["llama-gqa-untied"],
        ["llama-gqa-tied"],
        ["qwen2-bias"],
        ["gpt2"],
    ];

    public static ModelConfig ByName(string name) => name switch
    {
        "llama-gqa-untied" => Llama(),
        "llama-gqa-tied" => Llama(tied: true),
        "qwen2-bias" => Llama(tied: true, kvHeads: 1, qkvBias: true, type: "qwen2"),
        "gpt2" => Gpt2(),
        _ => throw new ArgumentException(name),
    };
}
