using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Gguf;

/// <summary>
/// Llama-family models (Llama, Mistral, Qwen2) as GGUF files that llama.cpp loads: the
/// <c>{arch}.*</c> hyper-parameters, the tokenizer, and the tensors under llama.cpp's names
/// (token_embd, blk.N.attn_q, ..., output_norm, output), following convert_hf_to_gguf.py.
/// Qwen2 with q/k/v bias is written as the "qwen2" architecture; the rest as "llama".
/// </summary>
public static class LlamaGguf
{
    /// <summary>HF module suffix → llama.cpp tensor name inside a block.</summary>
    private static readonly (string Hf, string Gguf)[] BlockNames =
    [
        ("input_layernorm", "attn_norm"),
        ("self_attn.q_proj", "attn_q"),
        ("self_attn.k_proj", "attn_k"),
        ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"),
        ("post_attention_layernorm", "ffn_norm"),
        ("mlp.gate_proj", "ffn_gate"),
        ("mlp.up_proj", "ffn_up"),
        ("mlp.down_proj", "ffn_down"),
    ];

    /// <summary>
    /// The GGUF architecture name for <paramref name="cfg"/>, or a <see cref="GgufExportException"/>
    /// saying why the model cannot be exported faithfully.
    /// </summary>
    public static string Architecture(ModelConfig cfg)
    {
        if (cfg.Family != ModelFamily.Llama)
            throw new GgufExportException($"GGUF export supports the Llama family (model_type llama, mistral or qwen2: RMSNorm, RoPE, SwiGLU); this model's model_type is '{cfg.ModelType}'. Export it with --format hf instead.");
        if (cfg.HiddenAct != "silu")
            throw new GgufExportException($"GGUF export needs hidden_act 'silu' (llama.cpp's SwiGLU); this model's config.json says '{cfg.HiddenAct}'");
        if (cfg.Raw?["rope_scaling"] is { } scaling)
            throw new GgufExportException($"GGUF export does not write rope_scaling ({scaling.ToJsonString()}); only plain RoPE with rope_theta is supported");
        if (cfg.NumLabels is not null && cfg.Architectures.Any(a => a.EndsWith("ForSequenceClassification", StringComparison.Ordinal)))
            throw new GgufExportException("GGUF export writes causal language models; this folder holds a sequence-classification (score) model");
        // llama.cpp's qwen2 graph requires the q/k/v biases and has no MLP bias; the llama graph takes both as optional.
        return cfg.ModelType == "qwen2" && cfg.AttentionBias && !cfg.MlpBias ? "qwen2" : "llama";
    }

    /// <summary>
    /// Writes <paramref name="model"/> with <paramref name="tokenizer"/> to <paramref name="path"/>.
    /// 2-D weights are stored as <paramref name="floatType"/>; norms and biases stay F32 as
    /// llama.cpp's converter keeps them.
    /// </summary>
    public static void Write(CausalLM model, GgufTokenizer tokenizer, string path, GgmlType floatType, string name)
    {
        var cfg = model.Config;
        string arch = Architecture(cfg);
        if (tokenizer.Tokens.Count != cfg.VocabSize)
            throw new GgufExportException($"the tokenizer has {tokenizer.Tokens.Count} tokens but the model's vocab_size is {cfg.VocabSize}; GGUF needs one token per embedding row");
        if (model.NamedModules().Any(m => m.Module is Linear { Lora.Merged: false }))
            throw new GgufExportException("the model carries unmerged LoRA adapters; merge them (--merge-lora) before exporting");

        var w = new GgufWriter();
        w.AddString("general.architecture", arch);
        w.AddString("general.name", name);
        w.AddUInt32("general.file_type", (uint)(floatType switch
        {
            GgmlType.F16 => GgufFileType.MostlyF16,
            GgmlType.BF16 => GgufFileType.MostlyBF16,
            _ => GgufFileType.AllF32,
        }));
        w.SetAlignment(GgufWriter.DefaultAlignment);
        w.AddUInt32($"{arch}.vocab_size", (uint)cfg.VocabSize);
        w.AddUInt32($"{arch}.context_length", (uint)cfg.MaxPositions);
        w.AddUInt32($"{arch}.embedding_length", (uint)cfg.HiddenSize);
        w.AddUInt32($"{arch}.block_count", (uint)cfg.NumLayers);
        w.AddUInt32($"{arch}.feed_forward_length", (uint)cfg.IntermediateSize);
        w.AddUInt32($"{arch}.attention.head_count", (uint)cfg.NumHeads);
        w.AddUInt32($"{arch}.attention.head_count_kv", (uint)cfg.NumKeyValueHeads);
        w.AddUInt32($"{arch}.rope.dimension_count", (uint)cfg.HeadDim);
        w.AddFloat32($"{arch}.rope.freq_base", cfg.RopeTheta);
        w.AddFloat32($"{arch}.attention.layer_norm_rms_epsilon", cfg.NormEps);
        tokenizer.WriteTo(w);

        // A merged adapter's A and B stay attached to its layer; the merged base weight carries them.
        foreach (var (hfName, p) in model.NamedParameters().Where(np => !np.Name.Contains(".lora_", StringComparison.Ordinal)))
        {
            var (ggufName, rows) = GgufName(hfName, cfg);
            var t = p.Value.Float();
            var data = t.ToArray();
            if (arch == "llama" && rows is { } heads)
                data = PermuteForNormRope(data, t.Shape[0], t.Numel / t.Shape[0], heads, cfg.HeadDim);
            w.AddTensor(ggufName, t.Shape, data, t.Shape.Length == 1 ? GgmlType.F32 : floatType);
        }
        w.Write(path);
    }

    /// <summary>
    /// The llama.cpp name of an HF parameter, and for q/k projections (weight and bias) the number
    /// of heads whose rows are permuted for the "llama" architecture.
    /// </summary>
    internal static (string Name, int? PermuteHeads) GgufName(string hfName, ModelConfig cfg)
    {
        switch (hfName)
        {
            case "model.embed_tokens.weight": return ("token_embd.weight", null);
            case "model.norm.weight": return ("output_norm.weight", null);
            case "lm_head.weight": return ("output.weight", null);
        }
        const string prefix = "model.layers.";
        if (hfName.StartsWith(prefix, StringComparison.Ordinal))
        {
            var rest = hfName[prefix.Length..];
            int dot = rest.IndexOf('.');
            var layer = rest[..dot];
            var tail = rest[(dot + 1)..];
            foreach (var (hf, gguf) in BlockNames)
            {
                if (!tail.StartsWith(hf + ".", StringComparison.Ordinal))
                    continue;
                var kind = tail[(hf.Length + 1)..];
                int? heads = hf switch
                {
                    "self_attn.q_proj" => cfg.NumHeads,
                    "self_attn.k_proj" => cfg.NumKeyValueHeads,
                    _ => null,
                };
                return ($"blk.{layer}.{gguf}.{kind}", heads);
            }
        }
        throw new GgufExportException($"parameter '{hfName}' has no GGUF name; only the Llama-family causal LM's weights are exported");
    }

    /// <summary>
    /// HF stores q/k rows per head as [first halves | second halves] for rotate-half RoPE (GPT-NeoX
    /// style); llama.cpp's "llama" graph rotates adjacent pairs, so convert_hf_to_gguf.py reorders
    /// each head's rows: new row 2i+a ← old row a·(D/2)+i, for i &lt; D/2, a ∈ {0, 1}.
    /// </summary>
    // w [heads·D, cols] -> [heads·D, cols]
    public static float[] PermuteForNormRope(float[] w, int rows, int cols, int heads, int headDim)
    {
        if (rows != heads * headDim)
            throw new ArgumentException($"{rows} rows is not {heads} heads × {headDim}");
        var result = new float[w.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int a = 0; a < 2; a++)
                for (int i = 0; i < half; i++)
                    Array.Copy(w, ((h * headDim) + (a * half) + i) * cols, result, ((h * headDim) + (2 * i) + a) * cols, cols);
        return result;
    }

    /// <summary>The inverse of <see cref="PermuteForNormRope"/>.</summary>
    // w [heads·D, cols] -> [heads·D, cols]
    public static float[] UnpermuteFromNormRope(float[] w, int rows, int cols, int heads, int headDim)
    {
        if (rows != heads * headDim)
            throw new ArgumentException($"{rows} rows is not {heads} heads × {headDim}");
        var result = new float[w.Length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++)
            for (int a = 0; a < 2; a++)
                for (int i = 0; i < half; i++)
                    Array.Copy(w, ((h * headDim) + (2 * i) + a) * cols, result, ((h * headDim) + (a * half) + i) * cols, cols);
        return result;
    }

    /// <summary>
    /// Rebuilds a <see cref="CausalLM"/> from a GGUF file this class wrote (or any llama/qwen2 GGUF
    /// with F32/F16/BF16 tensors): the config from the <c>{arch}.*</c> keys, the weights with the
    /// q/k permutation undone.
    /// </summary>
    public static CausalLM Load(string path)
    {
        var file = GgufFile.Open(path);
        var arch = file.Get<string>("general.architecture");
        if (arch is not ("llama" or "qwen2"))
            throw new GgufFormatException(path, 0, $"general.architecture is '{arch}'; only 'llama' and 'qwen2' are read");
        int U(string key) => (int)file.Get<uint>($"{arch}.{key}");
        bool hasBias = file.Tensors.Any(t => t.Name == "blk.0.attn_q.bias");
        var cfg = new ModelConfig
        {
            ModelType = arch,
            VocabSize = file.Tensor("token_embd.weight").Shape[0],
            HiddenSize = U("embedding_length"),
            NumLayers = U("block_count"),
            NumHeads = U("attention.head_count"),
            NumKeyValueHeads = U("attention.head_count_kv"),
            IntermediateSize = U("feed_forward_length"),
            MaxPositions = U("context_length"),
            NormEps = file.Get<float>($"{arch}.attention.layer_norm_rms_epsilon"),
            RopeTheta = file.Get<float>($"{arch}.rope.freq_base"),
            TieWordEmbeddings = file.Tensors.All(t => t.Name != "output.weight"),
            AttentionBias = hasBias,
        };
        var model = new CausalLM(cfg);
        foreach (var (hfName, p) in model.NamedParameters())
        {
            var (ggufName, heads) = GgufName(hfName, cfg);
            var info = file.Tensor(ggufName);
            if (!info.Shape.SequenceEqual(p.Shape))
                throw new GgufFormatException(path, file.DataStart + info.Offset, $"tensor '{ggufName}' has shape [{string.Join(", ", info.Shape)}]; the metadata implies [{string.Join(", ", p.Shape)}]");
            var data = file.ReadFloats(ggufName);
            if (arch == "llama" && heads is int h)
                data = UnpermuteFromNormRope(data, p.Shape[0], p.Numel / p.Shape[0], h, cfg.HeadDim);
            p.Assign(Tensor.FromArray(data, p.Shape));
        }
        return model;
    }
}
