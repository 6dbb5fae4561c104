namespace RlhfSharp.Training.Export;

/// <summary>The file layout <c>rlhf export</c> writes.</summary>
public enum ExportFormat
{
    /// <summary>Hugging Face: config.json, model.safetensors (or shards), tokenizer files.</summary>
    Hf,

    /// <summary>One GGUF file for llama.cpp and its front-ends (Llama family only).</summary>
    Gguf,
}

/// <summary>The element type of the exported weights.</summary>
public enum ExportDType
{
    F32,
    F16,
    BF16,
}

/// <summary>What <see cref="ModelExporter.Export"/> reads and writes.</summary>
public sealed record ExportOptions
{
    /// <summary>A model folder, or with <see cref="MergeLora"/> a PEFT adapter folder.</summary>
    public required string Model { get; init; }

    public required string Out { get; init; }

    public ExportFormat Format { get; init; } = ExportFormat.Hf;

    public ExportDType DType { get; init; } = ExportDType.F32;

    /// <summary>Fold the adapter in <see cref="Model"/> into its base model's weights.</summary>
    public bool MergeLora { get; init; }

    /// <summary>The base model of the adapter; null for the adapter's base_model_name_or_path.</summary>
    public string? BaseModel { get; init; }

    /// <summary>Replace a non-empty <see cref="Out"/>.</summary>
    public bool Force { get; init; }

    /// <summary>Largest safetensors shard (HF format).</summary>
    public long MaxShardBytes { get; init; } = 2L * 1000 * 1000 * 1000;
}
