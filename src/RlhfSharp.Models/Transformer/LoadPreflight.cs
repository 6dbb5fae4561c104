using RlhfSharp.Models.Config;
using RlhfSharp.Models.SafeTensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// What is checked before a model folder's weights take memory: the parameters config.json
/// describes (names and shapes, worked out from the config alone), whether they fit in the memory
/// this machine has, and whether the safetensors header holds exactly those tensors with those
/// shapes and a floating dtype. A wrong or absurd config.json thus fails with a message instead of
/// allocating gigabytes or running out of memory.
/// </summary>
public static class LoadPreflight
{
    /// <summary>
    /// The memory available to this process in bytes: the GC's limit (container or configured
    /// limit, else physical memory) or, where /proc/meminfo says less is free now, that.
    /// </summary>
    public static long AvailableMemoryBytes()
    {
        long limit = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        long inUse = GC.GetTotalMemory(forceFullCollection: false);
        long available = Math.Max(0, limit - inUse);
        if (ProcMemAvailable() is long free)
            available = Math.Min(available, free);
        return available;
    }

    private static long? ProcMemAvailable()
    {
        try
        {
            if (!File.Exists("/proc/meminfo"))
                return null;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                // "MemAvailable:   12345678 kB"
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal))
                    continue;
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length >= 2 && long.TryParse(parts[1], out var kb) ? kb * 1024 : null;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    /// <summary>
    /// The parameters (HF names, model-side shapes) of the model <paramref name="cfg"/> describes,
    /// in the order the modules register them; LoRA adapters are not included. A score model has
    /// a [num_labels, hidden] score head and no LM head.
    /// </summary>
    public static IEnumerable<(string Name, int[] Shape)> ParameterShapes(ModelConfig cfg, bool scorer)
    {
        int c = cfg.HiddenSize, f = cfg.IntermediateSize, v = cfg.VocabSize;
        if (cfg.Family == ModelFamily.Gpt2)
        {
            yield return ("transformer.wte.weight", [v, c]);
            yield return ("transformer.wpe.weight", [cfg.MaxPositions, c]);
            for (int i = 0; i < cfg.NumLayers; i++)
            {
                string p = $"transformer.h.{i}.";
                yield return (p + "ln_1.weight", [c]);
                yield return (p + "ln_1.bias", [c]);
                yield return (p + "attn.c_attn.weight", [3 * c, c]);
                yield return (p + "attn.c_attn.bias", [3 * c]);
                yield return (p + "attn.c_proj.weight", [c, c]);
                yield return (p + "attn.c_proj.bias", [c]);
                yield return (p + "ln_2.weight", [c]);
                yield return (p + "ln_2.bias", [c]);
                yield return (p + "mlp.c_fc.weight", [f, c]);
                yield return (p + "mlp.c_fc.bias", [f]);
                yield return (p + "mlp.c_proj.weight", [c, f]);
                yield return (p + "mlp.c_proj.bias", [c]);
            }
            yield return ("transformer.ln_f.weight", [c]);
            yield return ("transformer.ln_f.bias", [c]);
        }
        else
        {
            int d = cfg.HeadDim, q = cfg.NumHeads * d, kv = cfg.NumKeyValueHeads * d;
            yield return ("model.embed_tokens.weight", [v, c]);
            for (int i = 0; i < cfg.NumLayers; i++)
            {
                string p = $"model.layers.{i}.";
                yield return (p + "input_layernorm.weight", [c]);
                foreach (var (name, rows) in new[] { ("q_proj", q), ("k_proj", kv), ("v_proj", kv) })
                {
                    yield return (p + $"self_attn.{name}.weight", [rows, c]);
                    if (cfg.AttentionBias)
                        yield return (p + $"self_attn.{name}.bias", [rows]);
                }
                yield return (p + "self_attn.o_proj.weight", [c, q]);
                yield return (p + "post_attention_layernorm.weight", [c]);
                foreach (var (name, shape) in new[] { ("gate_proj", new[] { f, c }), ("up_proj", [f, c]), ("down_proj", [c, f]) })
                {
                    yield return (p + $"mlp.{name}.weight", shape);
                    if (cfg.MlpBias)
                        yield return (p + $"mlp.{name}.bias", [shape[0]]);
                }
            }
            yield return ("model.norm.weight", [c]);
        }
        if (scorer)
            yield return ("score.weight", [cfg.NumLabels ?? 1, c]);
        else if (!cfg.TieWordEmbeddings)
            yield return ("lm_head.weight", [v, c]);
    }

    /// <summary>
    /// Bytes a load needs: every parameter (4 bytes each, 2 with bf16 storage) plus the largest
    /// tensor twice over (read from the file in fp32, and its transposed copy for GPT-2's Conv1D).
    /// </summary>
    public static double EstimateLoadBytes(ModelConfig cfg, bool scorer, bool bf16Storage)
    {
        double parameters = 0, largest = 0;
        foreach (var (_, shape) in ParameterShapes(cfg, scorer))
        {
            double n = shape.Aggregate(1.0, (a, b) => a * b);
            parameters += n;
            largest = Math.Max(largest, n);
        }
        return (parameters * (bf16Storage ? 2 : 4)) + (2 * largest * 4);
    }

    /// <summary>Fails when the model config.json describes needs more memory than this machine has available.</summary>
    public static void CheckMemory(ModelConfig cfg, string directory, bool scorer, bool bf16Storage, long? availableBytes = null)
    {
        double needed = EstimateLoadBytes(cfg, scorer, bf16Storage);
        long available = availableBytes ?? AvailableMemoryBytes();
        if (needed > available)
        {
            double parameters = ParameterShapes(cfg, scorer).Sum(p => p.Shape.Aggregate(1.0, (a, b) => a * b));
            throw new CheckpointMismatchException(directory,
                $"the model config.json describes ({cfg.NumLayers} layers, hidden size {cfg.HiddenSize}, vocab_size {cfg.VocabSize}: "
                + $"{parameters:0.###e0} parameters) needs about {FormatBytes(needed)} to load, but this machine has {FormatBytes(available)} available; "
                + "check config.json, load the model with bf16 storage, or use a machine with more memory");
        }
    }

    /// <summary>
    /// Checks the safetensors header against the parameters expected: each is present (under its
    /// name, or for GPT-2 without the "transformer." prefix), has the expected shape (GPT-2's Conv1D
    /// weights stored transposed) and a floating dtype; tensors with no place in the model are an
    /// error too, except known buffers, a tied LM head and <paramref name="allowExtra"/>.
    /// </summary>
    public static void CheckHeader(SafeTensorsCheckpoint ckpt, string directory, ModelConfig cfg,
        IEnumerable<(string Name, int[] Shape)> expected, IReadOnlyCollection<string>? allowExtra, IReadOnlyCollection<string>? optional)
    {
        var names = new HashSet<string>(ckpt.Names, StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var (name, shape) in expected)
        {
            if (PretrainedIO.FileNameOf(name, names, cfg) is not { } file)
            {
                if (optional?.Contains(name) != true)
                    missing.Add(name);
                continue;
            }
            used.Add(file);
            var entry = ckpt.Entry(file);
            if (entry.DType is not (SafeTensorsDType.F32 or SafeTensorsDType.F16 or SafeTensorsDType.BF16 or SafeTensorsDType.F64))
                throw new CheckpointMismatchException(directory, $"tensor '{file}' is stored as {entry.DType}; model weights must be F32, F16, BF16 or F64");
            var inFile = PretrainedIO.IsConv1D(name, cfg) && shape.Length == 2 ? new[] { shape[1], shape[0] } : shape;
            if (!entry.Shape.SequenceEqual(inFile))
                throw new CheckpointMismatchException(directory, $"tensor '{file}' has shape [{string.Join(", ", entry.Shape)}] but the model built from config.json expects [{string.Join(", ", inFile)}]"
                    + $" ({cfg.NumLayers} layers, hidden size {cfg.HiddenSize}, vocab_size {cfg.VocabSize}); config.json and the weights describe different models");
        }
        if (missing.Count > 0)
            throw new CheckpointMismatchException(directory, $"the checkpoint lacks {missing.Count} tensor(s) the model needs: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")}");
        var extra = PretrainedIO.UnexpectedTensors(names, used, cfg, allowExtra);
        if (extra.Count > 0)
            throw new CheckpointMismatchException(directory, $"the checkpoint has {extra.Count} tensor(s) this {cfg.ModelType} model has no place for: {string.Join(", ", extra.Take(10))}{(extra.Count > 10 ? ", …" : "")}");
    }

    private static string FormatBytes(double bytes) => bytes switch
    {
        >= 1L << 40 => $"{bytes / (1L << 40):0.#} TiB",
        >= 1 << 30 => $"{bytes / (1 << 30):0.#} GiB",
        _ => $"{bytes / (1 << 20):0.#} MiB",
    };
}
