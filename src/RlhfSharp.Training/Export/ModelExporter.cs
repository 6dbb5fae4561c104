using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Gguf;
using RlhfSharp.Models.IO;
using RlhfSharp.Models.Lora;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;

namespace RlhfSharp.Training.Export;

/// <summary>
/// <c>rlhf export</c>: reads a model folder (or a LoRA adapter and its base, merged), and writes it
/// as a Hugging Face folder or one GGUF file. Everything is written into a fresh folder beside
/// --out and moved into place at the end, so a failure leaves --out as it was.
/// </summary>
public static class ModelExporter
{
    /// <summary>The GGUF file's name inside --out.</summary>
    public const string GgufFileName = "model.gguf";

    // Tokenizer files copied as they are into an HF export, when the source has them.
    private static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt", "encoder.json", "vocab.bpe", "generation_config.json"];

    /// <summary>Exports as <paramref name="options"/> says; returns the files written (full paths).</summary>
    public static IReadOnlyList<string> Export(ExportOptions options)
    {
        var outDir = Path.GetFullPath(options.Out);
        CheckOut(outDir, options);
        var (model, tokenizerDir) = LoadModel(options);
        var stage = Path.Combine(Path.GetDirectoryName(outDir)!, $".{Path.GetFileName(outDir)}.{Environment.ProcessId}.{Guid.NewGuid():N}.partial");
        try
        {
            Directory.CreateDirectory(stage);
            if (options.Format == ExportFormat.Gguf)
                WriteGguf(model, tokenizerDir, Path.Combine(stage, GgufFileName), options);
            else
                WriteHf(model, tokenizerDir, stage, options);
            var names = Directory.GetFiles(stage).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            MoveIntoPlace(stage, outDir);
            return [.. names.Select(n => Path.Combine(outDir, n!))];
        }
        finally
        {
            if (Directory.Exists(stage))
                Directory.Delete(stage, recursive: true);
        }
    }

    private static void CheckOut(string outDir, ExportOptions options)
    {
        if (File.Exists(outDir))
            throw new ExportException($"--out {options.Out} is a file; give a folder to write the export into");
        var sources = new[] { options.Model, options.BaseModel }.OfType<string>().Select(Path.GetFullPath);
        if (sources.Any(s => string.Equals(s.TrimEnd('/'), outDir.TrimEnd('/'), StringComparison.Ordinal)))
            throw new ExportException($"--out {options.Out} is the folder being exported; write the export to another folder");
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any() && !options.Force)
            throw new ExportException($"--out {options.Out} is not empty; choose an empty or new folder, or pass --force to replace its contents");
    }

    /// <summary>The model to export, and the folder its tokenizer files are in.</summary>
    private static (CausalLM Model, string TokenizerDir) LoadModel(ExportOptions options)
    {
        var dir = options.Model;
        if (!Directory.Exists(dir))
            throw new ExportException($"--model {dir}: no such folder");
        bool isAdapter = File.Exists(Path.Combine(dir, PeftIO.ConfigFile));
        bool hasConfig = File.Exists(Path.Combine(dir, "config.json"));
        if (!options.MergeLora)
        {
            if (isAdapter && !hasConfig)
                throw new ExportException($"--model {dir} holds a LoRA adapter ({PeftIO.ConfigFile}) but no config.json; pass --merge-lora to fold it into its base model");
            if (options.BaseModel is not null)
                throw new ExportException("--base is only used with --merge-lora");
            return (PretrainedIO.LoadCausalLM(dir), dir);
        }
        if (!isAdapter)
            throw new ExportException($"--merge-lora: --model {dir} has no {PeftIO.ConfigFile}; give the adapter folder a LoRA run saved (e.g. RUN/adapter)");
        var baseDir = options.BaseModel ?? BaseFromAdapter(dir);
        var model = PretrainedIO.LoadCausalLM(baseDir);
        PeftIO.Load(model, dir, new Generator(0));
        foreach (var (_, m) in model.NamedModules())
        {
            if (m is Linear { Lora: { } lora })
                lora.Merge();
        }
        return (model, File.Exists(Path.Combine(dir, BpeTokenizer.TokenizerJsonFileName)) ? dir : baseDir);
    }

    /// <summary>The adapter's base_model_name_or_path, as given or relative to the adapter folder.</summary>
    private static string BaseFromAdapter(string adapterDir)
    {
        var path = Path.Combine(adapterDir, PeftIO.ConfigFile);
        var name = (JsonNode.Parse(File.ReadAllText(path)) as JsonObject)?["base_model_name_or_path"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (string.IsNullOrEmpty(name))
            throw new ExportException($"{path}: base_model_name_or_path is not set; pass --base DIR to name the base model");
        foreach (var candidate in new[] { name, Path.Combine(adapterDir, name) })
        {
            if (File.Exists(Path.Combine(candidate, "config.json")))
                return candidate;
        }
        throw new ExportException($"{path}: base_model_name_or_path '{name}' is not a model folder here (looked in '{Path.GetFullPath(name)}' and relative to the adapter); pass --base DIR");
    }

    private static void WriteHf(CausalLM model, string tokenizerDir, string stage, ExportOptions options)
    {
        var dtype = options.DType switch
        {
            ExportDType.F16 => SafeTensorsDType.F16,
            ExportDType.BF16 => SafeTensorsDType.BF16,
            _ => SafeTensorsDType.F32,
        };
        PretrainedIO.Save(model, stage, dtype, options.MaxShardBytes);
        // transformers reads torch_dtype to pick the type it loads the weights as ("auto").
        var configPath = Path.Combine(stage, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["torch_dtype"] = options.DType switch
        {
            ExportDType.F16 => "float16",
            ExportDType.BF16 => "bfloat16",
            _ => "float32",
        };
        AtomicFile.WriteAllText(configPath, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        foreach (var f in TokenizerFiles)
        {
            var src = Path.Combine(tokenizerDir, f);
            if (File.Exists(src))
                File.Copy(src, Path.Combine(stage, f));
        }
    }

    private static void WriteGguf(CausalLM model, string tokenizerDir, string path, ExportOptions options)
    {
        LlamaGguf.Architecture(model.Config); // refuse unsupported models before reading the tokenizer
        var tokenizerJson = Path.Combine(tokenizerDir, BpeTokenizer.TokenizerJsonFileName);
        if (!File.Exists(tokenizerJson))
            throw new ExportException($"{tokenizerDir}: no {BpeTokenizer.TokenizerJsonFileName}; GGUF embeds the tokenizer, so the model folder needs one");
        var tokenizer = BpeTokenizer.FromDirectory(tokenizerDir);
        var vocab = GgufVocabulary.FromTokenizer(tokenizer, model.Config.VocabSize, tokenizerJson,
            model.Config.BosTokenId, model.Config.EosTokenId, ChatTemplate(tokenizerDir));
        var type = options.DType switch
        {
            ExportDType.F16 => GgmlType.F16,
            ExportDType.BF16 => GgmlType.BF16,
            _ => GgmlType.F32,
        };
        var name = Path.GetFileName(Path.GetFullPath(options.Model).TrimEnd('/'));
        LlamaGguf.Write(model, vocab, path, type, name);
    }

    /// <summary>tokenizer_config.json's chat_template when it is one string (GGUF holds one template).</summary>
    private static string? ChatTemplate(string dir)
    {
        var path = Path.Combine(dir, BpeTokenizer.TokenizerConfigFileName);
        if (!File.Exists(path))
            return null;
        // The tokenizer loader has read this file already, so it is valid JSON here.
        return JsonNode.Parse(File.ReadAllText(path)) is JsonObject o && o["chat_template"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
    }

    /// <summary>Puts the staged folder at <paramref name="outDir"/>; an old --out (with --force) is removed only after.</summary>
    private static void MoveIntoPlace(string stage, string outDir)
    {
        string? old = null;
        if (Directory.Exists(outDir))
        {
            old = stage + ".old";
            Directory.Move(outDir, old);
        }
        Directory.Move(stage, outDir);
        if (old is not null)
            Directory.Delete(old, recursive: true);
    }
}
