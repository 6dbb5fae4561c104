using System.Globalization;
using RlhfSharp.Models.Config;

namespace RlhfSharp.Bench;

/// <summary>
/// A model shape measured next to its PyTorch peer (bench/peers/torch_lm.py): the config, and the
/// training batch (rows of <see cref="Seq"/> tokens).
/// </summary>
public sealed record LmCase(string Name, ModelConfig Config, int Batch, int Seq)
{
    /// <summary>The cases every side-by-side verb knows, by name.</summary>
    public static readonly IReadOnlyList<string> Names = ["gpt2-6m", "llama-6m", "pipeline"];

    /// <summary>
    /// gpt2-6m and llama-6m: 6 layers of width 256 with 8 heads at 128 tokens and a 4096 vocabulary;
    /// pipeline: the policy of examples/sft.yaml's model_init (the built-in task's 512-token vocabulary).
    /// </summary>
    public static LmCase Get(string name) => name switch
    {
        "gpt2-6m" => new(name, new ModelConfig
        {
            ModelType = "gpt2",
            VocabSize = 4096,
            HiddenSize = 256,
            NumLayers = 6,
            NumHeads = 8,
            NumKeyValueHeads = 8,
            IntermediateSize = 1024,
            MaxPositions = 128,
            AttentionBias = true,
            MlpBias = true,
            HiddenAct = "gelu_new",
            NormEps = 1e-5f,
            TieWordEmbeddings = true,
        }, Batch: 8, Seq: 128),
        "llama-6m" => new(name, new ModelConfig
        {
            ModelType = "llama",
            VocabSize = 4096,
            HiddenSize = 256,
            NumLayers = 6,
            NumHeads = 8,
            NumKeyValueHeads = 4,
            IntermediateSize = 768,
            MaxPositions = 128,
            NormEps = 1e-5f,
            TieWordEmbeddings = true,
        }, Batch: 8, Seq: 128),
        "pipeline" => new(name, new ModelConfig
        {
            ModelType = "llama",
            VocabSize = 512,
            HiddenSize = 128,
            NumLayers = 4,
            NumHeads = 4,
            NumKeyValueHeads = 2,
            IntermediateSize = 384,
            MaxPositions = 128,
            NormEps = 1e-6f,
            TieWordEmbeddings = true,
        }, Batch: 32, Seq: 64),
        _ => throw new BenchUsageException($"--cases: unknown case '{name}'; known: {string.Join(", ", Names)}"),
    };

    /// <summary>The cases named by <c>--cases a,b</c> (all of them when absent).</summary>
    public static List<LmCase> Parse(string? cases)
    {
        if (cases is null)
            return [.. Names.Select(Get)];
        var names = cases.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0)
            throw new BenchUsageException($"--cases needs one or more of {string.Join(", ", Names)}, comma-separated");
        return [.. names.Select(Get)];
    }

    /// <summary>This case with room for <paramref name="positions"/> positions (GPT-2's position table grows with it).</summary>
    public LmCase WithPositions(int positions) => this with { Config = Config with { MaxPositions = positions } };

    /// <summary>The peer's model options for this shape.</summary>
    public string[] PeerModelArgs()
    {
        var c = Config;
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        string R(float v) => v.ToString("R", CultureInfo.InvariantCulture);
        if (c.HiddenAct != (c.Family == ModelFamily.Gpt2 ? "gelu_new" : "silu"))
            throw new InvalidOperationException($"the torch peer builds {c.ModelType} with its usual activation, not '{c.HiddenAct}'");
        if (c.Family == ModelFamily.Llama && (c.AttentionBias || c.MlpBias))
            throw new InvalidOperationException("the torch peer's llama has no biases");
        return
        [
            "--family", c.Family == ModelFamily.Gpt2 ? "gpt2" : "llama",
            "--hidden", I(c.HiddenSize),
            "--layers", I(c.NumLayers),
            "--heads", I(c.NumHeads),
            "--kv-heads", I(c.NumKeyValueHeads),
            "--intermediate", I(c.IntermediateSize),
            "--vocab", I(c.VocabSize),
            "--tied", c.TieWordEmbeddings ? "1" : "0",
            "--norm-eps", R(c.NormEps),
            "--rope-theta", R(c.RopeTheta),
            "--max-positions", I(c.MaxPositions),
        ];
    }
}
