using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Models.Config;

/// <summary>The transformer families this project builds.</summary>
public enum ModelFamily
{
    /// <summary>GPT-2: learned positions, LayerNorm, GELU (tanh form), tied embeddings, Conv1D weights.</summary>
    Gpt2,

    /// <summary>Llama family (Llama, Mistral, Qwen2): RMSNorm, RoPE, SwiGLU, grouped-query attention.</summary>
    Llama,
}

/// <summary>
/// A Hugging Face <c>config.json</c>, reduced to what the GPT-2 and Llama-family models need.
/// Key names follow each family's HF spelling (n_embd for GPT-2, hidden_size for Llama); the
/// original JSON is kept so unknown keys survive a load/save round trip.
/// </summary>
public sealed partial record ModelConfig
{
    /// <summary>model_type values accepted, and the family each maps to.</summary>
    public static readonly IReadOnlyDictionary<string, ModelFamily> SupportedModelTypes = new Dictionary<string, ModelFamily>
    {
        ["gpt2"] = ModelFamily.Gpt2,
        ["llama"] = ModelFamily.Llama,
        ["mistral"] = ModelFamily.Llama,
        ["qwen2"] = ModelFamily.Llama,
    };

    public required string ModelType { get; init; }

    public ModelFamily Family => SupportedModelTypes[ModelType];

    public required int VocabSize { get; init; }

    public required int HiddenSize { get; init; }

    public required int NumLayers { get; init; }

    public required int NumHeads { get; init; }

    /// <summary>Key/value heads for grouped-query attention (= NumHeads when absent).</summary>
    public required int NumKeyValueHeads { get; init; }

    public required int IntermediateSize { get; init; }

    public required int MaxPositions { get; init; }

    public int HeadDim => HiddenSize / NumHeads;

    /// <summary>LayerNorm or RMSNorm epsilon.</summary>
    public float NormEps { get; init; } = 1e-5f;

    public float RopeTheta { get; init; } = 10000f;

    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>Bias on the q/k/v projections (Qwen2 has it; Llama does not).</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Bias on the MLP projections (GPT-2 has it; Llama does not).</summary>
    public bool MlpBias { get; init; }

    /// <summary>Activation name as HF spells it (gelu_new, gelu, silu, relu).</summary>
    public string HiddenAct { get; init; } = "silu";

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    public int? PadTokenId { get; init; }

    /// <summary>Labels of a sequence-classification head (1 for reward models and critics).</summary>
    public int? NumLabels { get; init; }

    /// <summary>The architectures list written to config.json (e.g. LlamaForCausalLM).</summary>
    public IReadOnlyList<string> Architectures { get; init; } = [];

    /// <summary>The whole JSON as read, so keys this project does not use are written back unchanged.</summary>
    public JsonObject? Raw { get; init; }

    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: config.json not found; a model folder needs a Hugging Face config.json", path);
        JsonNode? node;
        var bytes = File.ReadAllBytes(path);
        if (JsonUnicode.Find(bytes) is { } bad)
            throw new ModelConfigException(path, bad.ToString());
        try
        {
            // A key given twice would make the first lookup throw; refuse it here, naming the key.
            node = JsonNode.Parse(JsonUnicode.Decode(bytes), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(path, $"not valid JSON: {e.Message}");
        }
        if (node is not JsonObject obj)
            throw new ModelConfigException(path, "config.json must hold a JSON object");
        return FromJson(obj, path);
    }

    public static ModelConfig FromJson(JsonObject obj, string path = "config.json")
    {
        var r = new ConfigReader(obj, path);
        var type = r.String("model_type");
        if (!SupportedModelTypes.TryGetValue(type, out var family))
            throw new ModelConfigException(path, $"model_type '{type}' is not supported (supported: {string.Join(", ", SupportedModelTypes.Keys)})");
        var archs = r.OptionalStringArray("architectures") ?? [];
        if (family == ModelFamily.Gpt2)
        {
            int hidden = r.Int("n_embd");
            return new ModelConfig
            {
                ModelType = type,
                VocabSize = r.Int("vocab_size"),
                HiddenSize = hidden,
                NumLayers = r.Int("n_layer"),
                NumHeads = r.Int("n_head"),
                NumKeyValueHeads = r.Int("n_head"),
                IntermediateSize = r.OptionalInt("n_inner") ?? (4 * hidden),
                MaxPositions = r.Int("n_positions"),
                NormEps = r.OptionalFloat("layer_norm_epsilon") ?? 1e-5f,
                TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? true,
                AttentionBias = true,
                MlpBias = true,
                HiddenAct = r.OptionalString("activation_function") ?? "gelu_new",
                BosTokenId = r.OptionalInt("bos_token_id"),
                EosTokenId = r.OptionalInt("eos_token_id"),
                PadTokenId = r.OptionalInt("pad_token_id"),
                NumLabels = r.OptionalInt("num_labels") ?? LabelsFromId2Label(obj),
                Architectures = archs,
                Raw = obj,
            }.Validated(path);
        }
        int heads = r.Int("num_attention_heads");
        return new ModelConfig
        {
            ModelType = type,
            VocabSize = r.Int("vocab_size"),
            HiddenSize = r.Int("hidden_size"),
            NumLayers = r.Int("num_hidden_layers"),
            NumHeads = heads,
            NumKeyValueHeads = r.OptionalInt("num_key_value_heads") ?? heads,
            IntermediateSize = r.Int("intermediate_size"),
            MaxPositions = r.Int("max_position_embeddings"),
            NormEps = r.OptionalFloat("rms_norm_eps") ?? 1e-6f,
            RopeTheta = r.OptionalFloat("rope_theta") ?? 10000f,
            TieWordEmbeddings = r.OptionalBool("tie_word_embeddings") ?? false,
            AttentionBias = r.OptionalBool("attention_bias") ?? (type == "qwen2"),
            MlpBias = r.OptionalBool("mlp_bias") ?? false,
            HiddenAct = r.OptionalString("hidden_act") ?? "silu",
            BosTokenId = r.OptionalInt("bos_token_id"),
            EosTokenId = r.OptionalInt("eos_token_id"),
            PadTokenId = r.OptionalInt("pad_token_id"),
            NumLabels = r.OptionalInt("num_labels") ?? LabelsFromId2Label(obj),
            Architectures = archs,
            Raw = obj,
        }.Validated(path);
    }

    private static int? LabelsFromId2Label(JsonObject obj) => obj["id2label"] is JsonObject m ? m.Count : null;

    private ModelConfig Validated(string path)
    {
        void Positive(string key, int v)
        {
            if (v <= 0)
                throw new ModelConfigException(path, $"'{key}' must be a positive integer, got {v}");
        }
        Positive("vocab_size", VocabSize);
        Positive(Family == ModelFamily.Gpt2 ? "n_embd" : "hidden_size", HiddenSize);
        Positive(Family == ModelFamily.Gpt2 ? "n_layer" : "num_hidden_layers", NumLayers);
        Positive(Family == ModelFamily.Gpt2 ? "n_head" : "num_attention_heads", NumHeads);
        Positive("num_key_value_heads", NumKeyValueHeads);
        Positive(Family == ModelFamily.Gpt2 ? "n_inner" : "intermediate_size", IntermediateSize);
        Positive(Family == ModelFamily.Gpt2 ? "n_positions" : "max_position_embeddings", MaxPositions);
        if (HiddenSize % NumHeads != 0)
            throw new ModelConfigException(path, $"hidden size {HiddenSize} is not divisible by the number of attention heads {NumHeads}");
        if (NumHeads % NumKeyValueHeads != 0)
            throw new ModelConfigException(path, $"num_attention_heads {NumHeads} is not a multiple of num_key_value_heads {NumKeyValueHeads}");
        if (Family == ModelFamily.Llama && HeadDim % 2 != 0)
            throw new ModelConfigException(path, $"head dim {HeadDim} must be even for rotary embeddings");
        if (!float.IsFinite(NormEps) || NormEps <= 0)
            throw new ModelConfigException(path, $"'{(Family == ModelFamily.Gpt2 ? "layer_norm_epsilon" : "rms_norm_eps")}' must be a small positive number such as 1e-5, got {NormEps}");
        if (Family == ModelFamily.Llama && (!float.IsFinite(RopeTheta) || RopeTheta <= 1))
            throw new ModelConfigException(path, $"'rope_theta' must be a number greater than 1 such as 10000, got {RopeTheta}");
        if (NumLabels is <= 0)
            throw new ModelConfigException(path, $"'num_labels' must be a positive integer, got {NumLabels}");
        foreach (var (key, id) in new[] { ("bos_token_id", BosTokenId), ("eos_token_id", EosTokenId), ("pad_token_id", PadTokenId) })
        {
            if (id is int v && (v < 0 || v >= VocabSize))
                throw new ModelConfigException(path, $"'{key}' is {v}, outside the vocabulary of vocab_size {VocabSize}; expected an id in [0, {VocabSize - 1}] or no key");
        }
        string[] acts = ["gelu_new", "gelu", "gelu_pytorch_tanh", "silu", "relu"];
        if (!acts.Contains(HiddenAct))
            throw new ModelConfigException(path, $"activation '{HiddenAct}' is not supported (supported: {string.Join(", ", acts)})");
        return this;
    }
}
