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
        var model = new CausalLM(cfg);
        LoadWeights(model, directory, bf16Storage, allowExtra: ["score.weight", "v_head.summary.weight", "v_head.summary.bias"]);
        return model;
    }

    /// <summary>Loads a score model; a causal-LM folder (no score.weight) gets a zero-initialised head.</summary>
    public static SequenceScorer LoadScorer(string directory, bool bf16Storage = false, bool allowNewHead = false)
    {
        var cfg = ModelConfig.Load(Path.Combine(directory, "config.json"));
        var model = new SequenceScorer(cfg);
        LoadWeights(model, directory, bf16Storage, allowExtra: ["lm_head.weight"], optional: allowNewHead ? ["score.weight"] : []);
        return model;
    }

    /// <summary>
    /// Reads every parameter of <paramref name="model"/> from the folder's safetensors. Missing
    /// tensors are an error naming them; tensors the model has no slot for are an error too, except
    /// known buffers and the names in <paramref name="allowExtra"/>.
    /// </summary>
    public static void LoadWeights(Module model, string directory, bool bf16Storage = false, IReadOnlyCollection<string>? allowExtra = null, IReadOnlyCollection<string>? optional = null)
    {
        using var ckpt = SafeTensorsCheckpoint.Open(directory);
        var cfg = model switch
        {
            CausalLM lm => lm.Config,
            SequenceScorer s => s.Config,
            _ => throw new ArgumentException("LoadWeights expects a CausalLM or a SequenceScorer"),
        };
        bool gpt2 = cfg.Family == ModelFamily.Gpt2;
        var names = new HashSet<string>(ckpt.Names, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var (name, p) in model.NamedParameters())
        {
            if (name.Contains(".lora_", StringComparison.Ordinal))
                continue;
            // The original GPT-2 checkpoints name the body's tensors without the "transformer." prefix.
            string? file = names.Contains(name) ? name
                : gpt2 && name.StartsWith("transformer.", StringComparison.Ordinal) && names.Contains(name["transformer.".Length..]) ? name["transformer.".Length..]
                : null;
            if (file is null)
            {
                if (optional?.Contains(name) != true)
                    missing.Add(name);
                continue;
            }
            used.Add(file);
            var t = ckpt.Read(file, keepBFloat16: bf16Storage);
            if (gpt2 && Gpt2Conv1D.Any(s => name.EndsWith(s, StringComparison.Ordinal)))
                t = t.Float().T.Contiguous();
            if (!t.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"{directory}: tensor '{file}' has shape [{string.Join(", ", t.Shape)}] but the model built from config.json expects [{string.Join(", ", p.Shape)}]");
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
        if (missing.Count > 0)
            throw new InvalidDataException($"{directory}: the checkpoint lacks {missing.Count} tensor(s) the model needs: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")}");
        var tiedHead = cfg.TieWordEmbeddings ? new[] { "lm_head.weight" } : [];
        var extra = names.Except(used)
            .Where(n => !IgnoredSuffixes.Any(s => n.EndsWith(s, StringComparison.Ordinal)))
            .Where(n => allowExtra?.Contains(n) != true && !tiedHead.Contains(n))
            .ToList();
        if (extra.Count > 0)
            throw new InvalidDataException($"{directory}: the checkpoint has {extra.Count} tensor(s) this {cfg.ModelType} model has no place for: {string.Join(", ", extra.Take(10))}{(extra.Count > 10 ? ", …" : "")}");
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
