using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// Loads and saves model folders in the Hugging Face layout (config.json + model.safetensors or
/// shards), with HF tensor names so a saved folder opens in <c>transformers</c>.
/// </summary>
public static class PretrainedIO
{
    // GPT-2 stores these projections as Conv1D, whose weight is [in, out]: the transpose of
    // nn.Linear's [out, in]. They are transposed on load and back on save.
    private static readonly string[] Gpt2Conv1D = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"];

    // Buffers some checkpoints carry that are not parameters.
    private static readonly string[] IgnoredSuffixes = [".attn.bias", ".attn.masked_bias", ".rotary_emb.inv_freq"];

    public static CausalLM LoadCausalLM(string directory, bool bf16Storage = false)
    {
        var cfg = ModelConfig.Load(Path.Combine(directory, "config.json"));
        IReadOnlyCollection<string> allowExtra = ["score.weight", "v_head.summary.weight", "v_head.summary.bias"];
        using var ckpt = Preflight(directory, cfg, scorer: false, bf16Storage, allowExtra, optional: null);
        var model = new CausalLM(cfg);
        LoadWeights(model, ckpt, directory, bf16Storage, allowExtra, optional: null);
        return model;
    }

    /// <summary>Loads a score model; a causal-LM folder (no score.weight) gets a zero-initialised head.</summary>
    public static SequenceScorer LoadScorer(string directory, bool bf16Storage = false, bool allowNewHead = false)
    {
        var cfg = ModelConfig.Load(Path.Combine(directory, "config.json"));
        IReadOnlyCollection<string> allowExtra = ["lm_head.weight"];
        IReadOnlyCollection<string> optional = allowNewHead ? ["score.weight"] : [];
        using var ckpt = Preflight(directory, cfg, scorer: true, bf16Storage, allowExtra, optional);
        var model = new SequenceScorer(cfg);
        LoadWeights(model, ckpt, directory, bf16Storage, allowExtra, optional);
        return model;
    }

    /// <summary>
    /// Before the model is built: its memory need against what the machine has, then the
    /// safetensors header against the parameters config.json describes (<see cref="LoadPreflight"/>).
    /// </summary>
    private static SafeTensorsCheckpoint Preflight(string directory, ModelConfig cfg, bool scorer, bool bf16Storage,
        IReadOnlyCollection<string> allowExtra, IReadOnlyCollection<string>? optional)
    {
        LoadPreflight.CheckMemory(cfg, directory, scorer, bf16Storage);
        var ckpt = SafeTensorsCheckpoint.Open(directory);
        try
        {
            LoadPreflight.CheckHeader(ckpt, directory, cfg, LoadPreflight.ParameterShapes(cfg, scorer), allowExtra, optional);
            return ckpt;
        }
        catch
        {
            ckpt.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads every parameter of <paramref name="model"/> from the folder's safetensors. Missing
    /// tensors are an error naming them; tensors the model has no slot for are an error too, except
    /// known buffers and the names in <paramref name="allowExtra"/>. The header is checked in full
    /// before any tensor is read.
    /// </summary>
    public static void LoadWeights(Module model, string directory, bool bf16Storage = false, IReadOnlyCollection<string>? allowExtra = null, IReadOnlyCollection<string>? optional = null)
    {
        using var ckpt = SafeTensorsCheckpoint.Open(directory);
        LoadWeights(model, ckpt, directory, bf16Storage, allowExtra, optional);
    }

    private static void LoadWeights(Module model, SafeTensorsCheckpoint ckpt, string directory, bool bf16Storage, IReadOnlyCollection<string>? allowExtra, IReadOnlyCollection<string>? optional)
    {
        var cfg = model switch
        {
            CausalLM lm => lm.Config,
            SequenceScorer s => s.Config,
            _ => throw new ArgumentException("LoadWeights expects a CausalLM or a SequenceScorer"),
        };
        var parameters = model.NamedParameters().Where(np => !np.Name.Contains(".lora_", StringComparison.Ordinal)).ToList();
        LoadPreflight.CheckHeader(ckpt, directory, cfg, parameters.Select(np => (np.Name, np.Param.Shape.ToArray())), allowExtra, optional);
        var names = new HashSet<string>(ckpt.Names, StringComparer.Ordinal);
        foreach (var (name, p) in parameters)
        {
            if (FileNameOf(name, names, cfg) is not { } file)
                continue;
            var t = ckpt.Read(file, keepBFloat16: bf16Storage);
            if (IsConv1D(name, cfg))
                t = t.Float().T.Contiguous();
            if (bf16Storage)
            {
                p.Value = t.ToBFloat16();
                p.RequiresGrad = false;
            }
            else
            {
                p.Assign(t);
            }
        }
    }

    /// <summary>The name a parameter has in the checkpoint, or null when it is not there.</summary>
    internal static string? FileNameOf(string name, HashSet<string> names, ModelConfig cfg) =>
        names.Contains(name) ? name
        // The original GPT-2 checkpoints name the body's tensors without the "transformer." prefix.
        : cfg.Family == ModelFamily.Gpt2 && name.StartsWith("transformer.", StringComparison.Ordinal) && names.Contains(name["transformer.".Length..]) ? name["transformer.".Length..]
        : null;

    internal static bool IsConv1D(string name, ModelConfig cfg) =>
        cfg.Family == ModelFamily.Gpt2 && Gpt2Conv1D.Any(s => name.EndsWith(s, StringComparison.Ordinal));

    /// <summary>Checkpoint tensors no parameter used, less known buffers, a tied LM head and the allowed extras.</summary>
    internal static List<string> UnexpectedTensors(IEnumerable<string> names, HashSet<string> used, ModelConfig cfg, IReadOnlyCollection<string>? allowExtra)
    {
        var tiedHead = cfg.TieWordEmbeddings ? new[] { "lm_head.weight" } : [];
        return names.Except(used)
            .Where(n => !IgnoredSuffixes.Any(s => n.EndsWith(s, StringComparison.Ordinal)))
            .Where(n => allowExtra?.Contains(n) != true && !tiedHead.Contains(n))
            .ToList();
    }

    /// <summary>
    /// Writes config.json and the weights (LoRA adapter tensors excluded: merge them first or save
    /// them with <see cref="Lora.PeftIO"/>). BF16 halves the file; F32 is exact.
    /// </summary>
    public static void Save(Module model, string directory, SafeTensorsDType floatType = SafeTensorsDType.F32, long maxShardBytes = 2L << 30)
    {
        var (cfg, arch) = model switch
        {
            CausalLM lm => (lm.Config, lm.Config.Family == ModelFamily.Gpt2 ? "GPT2LMHeadModel" : ArchName(lm.Config, "ForCausalLM")),
            SequenceScorer s => (s.Config, s.Config.Family == ModelFamily.Gpt2 ? "GPT2ForSequenceClassification" : ArchName(s.Config, "ForSequenceClassification")),
            _ => throw new ArgumentException("Save expects a CausalLM or a SequenceScorer"),
        };
        Directory.CreateDirectory(directory);
        bool gpt2 = cfg.Family == ModelFamily.Gpt2;
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (var (name, p) in model.NamedParameters())
        {
            if (name.Contains(".lora_", StringComparison.Ordinal))
                continue;
            var t = p.Value;
            if (gpt2 && Gpt2Conv1D.Any(s => name.EndsWith(s, StringComparison.Ordinal)))
                t = t.Float().T.Contiguous();
            tensors.Add(new(name, t.Detach()));
        }
        var meta = new Dictionary<string, string> { ["format"] = "pt" };
        SafeTensorsWriter.SaveSharded(directory, tensors, maxShardBytes, floatType, meta);
        (cfg with { Architectures = [arch] }).Save(Path.Combine(directory, "config.json"));
    }

    private static string ArchName(ModelConfig cfg, string suffix) => cfg.ModelType switch
    {
        "qwen2" => "Qwen2" + suffix,
        "mistral" => "Mistral" + suffix,
        _ => "Llama" + suffix,
    };
}
