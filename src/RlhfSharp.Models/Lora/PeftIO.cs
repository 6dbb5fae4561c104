using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.IO;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Lora;

/// <summary>
/// Attaching LoRA adapters to a model, and saving/loading them in PEFT's layout:
/// adapter_config.json plus adapter_model.safetensors with tensors named
/// <c>base_model.model.&lt;module&gt;.lora_A.weight</c> / <c>lora_B.weight</c>.
/// </summary>
public static class PeftIO
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    private const string Prefix = "base_model.model.";

    /// <summary>
    /// Freezes every base weight and attaches adapters to the targeted linear layers. Returns the
    /// number of trainable (adapter) parameters. Throws if no layer matches.
    /// </summary>
    public static long Apply(Module model, LoraConfig config, Generator rng)
    {
        model.Freeze();
        var targets = model.NamedModules()
            .Where(m => m.Module is Linear && config.TargetModules.Contains(m.Name.Split('.')[^1]))
            .ToList();
        if (targets.Count == 0)
        {
            var linearNames = model.NamedModules().Where(m => m.Module is Linear).Select(m => m.Name.Split('.')[^1]).Distinct();
            throw new ArgumentException($"no linear layer matches LoRA target_modules [{string.Join(", ", config.TargetModules)}]; this model has [{string.Join(", ", linearNames)}]");
        }
        foreach (var (_, m) in targets)
            ((Linear)m).AttachLora(config.Rank, config.Alpha, config.Dropout, rng);
        return model.ParameterCount(trainableOnly: true);
    }

    public static void Save(Module model, LoraConfig config, string directory, string? baseModelPath = null)
    {
        Directory.CreateDirectory(directory);
        var tensors = model.NamedParameters()
            .Where(p => p.Name.Contains(".lora_", StringComparison.Ordinal))
            .Select(p => new KeyValuePair<string, Tensor>(Prefix + p.Name, p.Param.Value.Detach()))
            .ToList();
        if (tensors.Count == 0)
            throw new InvalidOperationException("the model has no LoRA adapters to save");
        SafeTensorsWriter.Save(Path.Combine(directory, WeightsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        bool gpt2 = model is CausalLM { Config.Family: ModelFamily.Gpt2 } or SequenceScorer { Config.Family: ModelFamily.Gpt2 };
        var json = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = model is SequenceScorer ? "SEQ_CLS" : "CAUSAL_LM",
            ["r"] = config.Rank,
            ["lora_alpha"] = config.Alpha,
            ["lora_dropout"] = config.Dropout,
            ["target_modules"] = new JsonArray(config.TargetModules.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
            ["bias"] = "none",
            // GPT-2's Conv1D stores weights [in, out]; PEFT records that so merging transposes.
            ["fan_in_fan_out"] = gpt2,
            ["inference_mode"] = false,
            ["base_model_name_or_path"] = baseModelPath,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    public static LoraConfig ReadConfig(string directory)
    {
        var path = Path.Combine(directory, ConfigFile);
        if (!File.Exists(path))
            throw new FileNotFoundException($"{path}: no adapter_config.json; a LoRA adapter folder needs one", path);
        JsonObject obj;
        var bytes = File.ReadAllBytes(path);
        if (JsonUnicode.Find(bytes) is { } bad)
            throw new ModelConfigException(path, bad.ToString());
        try
        {
            obj = JsonNode.Parse(JsonUnicode.Decode(bytes)) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException e)
        {
            throw new ModelConfigException(path, $"not a valid JSON object: {e.Message}");
        }
        if (obj["peft_type"]?.GetValue<string>() is not "LORA")
            throw new ModelConfigException(path, $"peft_type must be \"LORA\", got {obj["peft_type"]?.ToJsonString() ?? "nothing"}");
        int r = obj["r"] is JsonValue rv && rv.TryGetValue<int>(out var ri) ? ri : throw new ModelConfigException(path, "key 'r' must be an integer");
        float alpha = obj["lora_alpha"] is JsonValue av && av.TryGetValue<double>(out var ad) ? (float)ad : throw new ModelConfigException(path, "key 'lora_alpha' must be a number");
        float dropout = obj["lora_dropout"] is JsonValue dv && dv.TryGetValue<double>(out var dd) ? (float)dd : 0f;
        var targets = obj["target_modules"] switch
        {
            JsonArray a => a.Select(x => x!.GetValue<string>()).ToArray(),
            JsonValue s when s.TryGetValue<string>(out var one) => [one],
            _ => throw new ModelConfigException(path, "key 'target_modules' must be a list of module names"),
        };
        return new LoraConfig { Rank = r, Alpha = alpha, Dropout = dropout, TargetModules = targets };
    }

    /// <summary>Attaches adapters as the folder's config describes and loads their weights.</summary>
    public static LoraConfig Load(Module model, string directory, Generator rng)
    {
        var config = ReadConfig(directory);
        Apply(model, config, rng);
        using var file = SafeTensorsFile.Open(Path.Combine(directory, WeightsFile));
        var expected = model.NamedParameters().Where(p => p.Name.Contains(".lora_", StringComparison.Ordinal)).ToList();
        foreach (var (name, p) in expected)
        {
            var t = file.Read(Prefix + name);
            if (!t.Shape.SequenceEqual(p.Shape))
                throw new InvalidDataException($"{file.Path}: '{Prefix + name}' has shape [{string.Join(", ", t.Shape)}], the adapter config implies [{string.Join(", ", p.Shape)}]");
            p.Value = t;
        }
        if (file.Entries.Count != expected.Count)
            throw new InvalidDataException($"{file.Path}: holds {file.Entries.Count} tensors but the model has {expected.Count} adapter weights for target_modules [{string.Join(", ", config.TargetModules)}]");
        return config;
    }
}
