using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Generation;
using RlhfSharp.Models.IO;
using RlhfSharp.Models.Modules;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors.Kernels;
using RlhfSharp.Tensors.Optim;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Foundation;

/// <summary>Resolution of files, tokenizer, gold scorer, optimizer and schedule that the trainers share.</summary>
public static class TrainerSetup
{
    public static void ApplyThreads(TrainLoopConfig cfg)
    {
        if (cfg.Threads > 0)
            Engine.Threads = cfg.Threads;
    }

    /// <summary>
    /// The device of a run (config keys device and dtype), its engine set up on first use; a GPU
    /// that is not there is a <see cref="TrainingSetupException"/> naming what is missing.
    /// </summary>
    public static Tensors.Device Device(TrainLoopConfig cfg) => Device(cfg.Device, cfg.Dtype);

    /// <summary><see cref="Device(TrainLoopConfig)"/> from the two keys' values.</summary>
    public static Tensors.Device Device(string name, string dtype)
    {
        var device = Tensors.Device.Parse(name);
        if (device.IsCpu)
            return device;
        Tensors.Gpu.GpuEngine engine;
        try
        {
            engine = Tensors.Gpu.GpuEngine.Use(device);
        }
        catch (Tensors.Gpu.GpuUnavailableException e)
        {
            throw new TrainingSetupException($"device: {e.Message}");
        }
        engine.BFloat16Matmul = dtype == "bf16";
        return device;
    }

    /// <summary>The run's device in words for summaries: "cpu", or the engine's name ("cuda:0 (NVIDIA H200)").</summary>
    public static string DeviceName(TrainLoopConfig cfg)
    {
        var device = Tensors.Device.Parse(cfg.Device);
        return device.IsCpu ? "cpu" : Tensors.Gpu.GpuEngine.Use(device).Name;
    }

    /// <summary>Moves models to the run's device (before their optimizers are made); returns the device.</summary>
    public static Tensors.Device PlaceModels(TrainLoopConfig cfg, params Module?[] models) => PlaceModels(cfg.Device, cfg.Dtype, models);

    /// <summary><see cref="PlaceModels(TrainLoopConfig, Module?[])"/> from the two keys' values.</summary>
    public static Tensors.Device PlaceModels(string name, string dtype, params Module?[] models)
    {
        var device = Device(name, dtype);
        if (!device.IsCpu)
        {
            foreach (var m in models)
                m?.To(device);
        }
        return device;
    }

    /// <summary>The errors of a device and dtype pair, for every config that has the two keys.</summary>
    public static IEnumerable<string> DeviceErrors(string device, string dtype)
    {
        string? deviceError = null;
        bool cpu = false;
        try
        {
            cpu = Tensors.Device.Parse(device).IsCpu;
        }
        catch (Tensors.DeviceNameException e)
        {
            deviceError = $"device: {e.Message}";
        }
        if (deviceError is not null)
            yield return deviceError;
        if (dtype is not ("fp32" or "bf16"))
            yield return $"dtype must be fp32 or bf16, got '{dtype}'";
        else if (dtype == "bf16" && deviceError is null && cpu)
            yield return "dtype: bf16 runs on a GPU device (device: cuda, or cpu-accelerator to check a run); the CPU engine computes in fp32";
    }

    /// <summary>
    /// An explicit path (a file, or for Parquet a folder or shard pattern, see <see cref="DataFiles"/>),
    /// else the named file of the data folder, or the same name with .parquet; it must exist.
    /// </summary>
    public static string? DataFile(string? explicitPath, string? dataDir, string fileName, string key, bool required)
    {
        var path = explicitPath ?? (dataDir is null ? null : Path.Combine(dataDir, fileName));
        if (path is null || (explicitPath is not null ? DataFiles.Exists(path) : File.Exists(path)))
            return path;
        // A data folder may hold the same file as Parquet (sft_train.parquet for sft_train.jsonl).
        var parquet = Path.ChangeExtension(path, DataFiles.ParquetExtension);
        if (explicitPath is null && File.Exists(parquet))
            return parquet;
        if (!required && explicitPath is null)
            return null;
        throw new TrainingSetupException($"{path}: file not found (config key '{key}'{(explicitPath is null ? $", looked for {fileName} or {Path.ChangeExtension(fileName, DataFiles.ParquetExtension)} in the data folder" : "")})");
    }

    /// <summary>
    /// The training examples: train_file (or <paramref name="defaultName"/> in the data folder), then
    /// each of extra_train_files in order, all read with the same bad-line policy.
    /// </summary>
    public static List<T> LoadTrain<T>(ModelTrainConfig cfg, string defaultName, Func<string, DataLoadOptions?, IReadOnlyList<T>> load)
    {
        var options = LoadOptions(cfg);
        var examples = new List<T>(load(DataFile(cfg.TrainFile, cfg.Data, defaultName, "train_file", required: true)!, options));
        for (int i = 0; i < cfg.ExtraTrainFiles.Count; i++)
            examples.AddRange(load(DataFile(cfg.ExtraTrainFiles[i], null, defaultName, $"extra_train_files[{i}]", required: true)!, options));
        return examples;
    }

    /// <summary>
    /// The held-out examples: eval_file, else <paramref name="defaultName"/> in the data folder when
    /// it exists; null when there is neither. Read with the same bad-line policy as the training data.
    /// </summary>
    public static TSet? LoadEval<TSet>(ModelTrainConfig cfg, string defaultName, Func<string, DataLoadOptions?, TSet> load)
        where TSet : class =>
        DataFile(cfg.EvalFile, cfg.Data, defaultName, "eval_file", required: false) is { } file ? load(file, LoadOptions(cfg)) : null;

    /// <summary>How data lines are read (skip_bad_lines).</summary>
    public static DataLoadOptions LoadOptions(ModelTrainConfig cfg) => new() { SkipBadLines = cfg.SkipBadLines };

    /// <summary>A model folder named by config key <paramref name="key"/>; it must exist.</summary>
    public static string RequireDir(string path, string key) =>
        Directory.Exists(path) ? path : throw new TrainingSetupException($"{path}: model folder not found (config key '{key}')");

    /// <summary>
    /// A model folder and its tokenizer for generation: the tokenizer checked against the model,
    /// the model frozen and placed on <paramref name="device"/> in <paramref name="dtype"/>.
    /// </summary>
    public static (CausalLM Model, BpeTokenizer Tokenizer) LoadForGeneration(string modelDir, string tokenizerDir, string device, string dtype)
    {
        var tokenizer = BpeTokenizer.FromDirectory(tokenizerDir);
        TokenizerModelCheck.Check(tokenizer, tokenizerDir, modelDir);
        var model = PretrainedIO.LoadCausalLM(modelDir);
        model.Freeze();
        PlaceModels(device, dtype, model);
        return (model, tokenizer);
    }

    public static BpeTokenizer LoadTokenizer(string? tokenizerDir, string? modelDir, string? dataDir)
        => BpeTokenizer.FromDirectory(TokenizerDir(tokenizerDir, modelDir, dataDir));

    /// <summary>The folder the tokenizer is read from: 'tokenizer', else the model folder when it has one, else the data folder's.</summary>
    public static string TokenizerDir(string? tokenizerDir, string? modelDir, string? dataDir)
    {
        var dir = tokenizerDir
            ?? (modelDir is not null && File.Exists(Path.Combine(modelDir, "tokenizer.json")) ? modelDir : null)
            ?? (dataDir is not null ? Path.Combine(dataDir, BuiltinTaskGenerator.TokenizerFolderName) : null)
            ?? throw new TrainingSetupException("no tokenizer: set 'tokenizer', or give a model folder or data folder that contains one");
        if (!Directory.Exists(dir))
            throw new TrainingSetupException($"{dir}: tokenizer folder not found (config key 'tokenizer')");
        return dir;
    }

    /// <summary>
    /// The chat template config key <c>chat_template</c> names (see <see cref="ChatTemplateChoice.Resolve"/>):
    /// by default the tokenizer's own template when <paramref name="tokenizerDir"/> has one, else ChatML.
    /// </summary>
    public static ChatTemplate Template(string name, string? tokenizerDir = null)
    {
        try
        {
            return ChatTemplateChoice.Resolve(tokenizerDir, name).Template;
        }
        catch (ChatTemplateException e)
        {
            throw new TrainingSetupException($"config key 'chat_template': {e.Message}");
        }
    }

    public static IRewardSource? Gold(string? dataDir) =>
        dataDir is not null && GoldScorer.TryCreate(dataDir) is { } scorer ? new GoldRewardSource(scorer) : null;

    public static AdamW Optimizer(Module model, TrainLoopConfig cfg) =>
        new(ParamGroups.DecayAndNoDecay(model.NamedParameters().Where(p => p.Param.RequiresGrad).Select(p => (p.Name, p.Param.Value)), cfg.WeightDecay), lr: cfg.LearningRate, weightDecay: cfg.WeightDecay);

    public static LrSchedule Schedule(TrainLoopConfig cfg) => cfg.LrScheduler switch
    {
        "constant" => new ConstantWithWarmupSchedule(cfg.WarmupSteps),
        "linear" => new LinearWithWarmupSchedule(cfg.WarmupSteps, Math.Max(cfg.MaxSteps, 1), cfg.MinLrRatio),
        _ => new CosineWithWarmupSchedule(cfg.WarmupSteps, Math.Max(cfg.MaxSteps, 1), cfg.MinLrRatio),
    };

    public static GenerationOptions EvalGeneration(int maxNewTokens, float temperature, BpeTokenizer tokenizer) => new()
    {
        MaxNewTokens = maxNewTokens,
        DoSample = temperature > 0,
        Temperature = temperature > 0 ? temperature : 1f,
        EosTokenIds = tokenizer.EosTokenId is int eos ? [eos] : [],
        PadTokenId = tokenizer.PadTokenId ?? 0,
    };

    /// <summary>
    /// Copies tokenizer files next to a saved model so the folder is self-contained; each file is
    /// written atomically, so a full disk leaves the earlier one in place.
    /// </summary>
    /// <param name="tokenizer">The tokenizer.</param>
    /// <param name="modelDir">The saved model's folder.</param>
    /// <param name="sourceDir">
    /// The folder the tokenizer was read from: its chat template (tokenizer_config.json's
    /// <c>chat_template</c>, <c>chat_template.jinja</c>, <c>additional_chat_templates/</c>) goes along,
    /// so the trained model keeps the conversation format it was trained in.
    /// </param>
    public static void SaveTokenizer(BpeTokenizer tokenizer, string modelDir, string? sourceDir = null)
    {
        AtomicFile.WriteAllText(Path.Combine(modelDir, BpeTokenizer.TokenizerJsonFileName), tokenizer.ToJson());
        string config = tokenizer.ToConfigJson();
        if (sourceDir is not null && !SameFolder(sourceDir, modelDir))
        {
            string sourceConfig = Path.Combine(sourceDir, BpeTokenizer.TokenizerConfigFileName);
            if (File.Exists(sourceConfig) && JsonNode.Parse(File.ReadAllText(sourceConfig)) is JsonObject source
                && source["chat_template"] is { } template && JsonNode.Parse(config) is JsonObject written)
            {
                written["chat_template"] = template.DeepClone();
                config = written.ToJsonString(Indented);
            }
            string jinja = Path.Combine(sourceDir, ChatTemplateFiles.JinjaFileName);
            if (File.Exists(jinja))
                AtomicFile.WriteAllText(Path.Combine(modelDir, ChatTemplateFiles.JinjaFileName), File.ReadAllText(jinja));
            string more = Path.Combine(sourceDir, ChatTemplateFiles.AdditionalTemplatesFolder);
            if (Directory.Exists(more))
            {
                string target = Directory.CreateDirectory(Path.Combine(modelDir, ChatTemplateFiles.AdditionalTemplatesFolder)).FullName;
                foreach (var file in Directory.GetFiles(more, "*.jinja"))
                    AtomicFile.WriteAllText(Path.Combine(target, Path.GetFileName(file)), File.ReadAllText(file));
            }
        }
        AtomicFile.WriteAllText(Path.Combine(modelDir, BpeTokenizer.TokenizerConfigFileName), config);
    }

    private static bool SameFolder(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd(Path.DirectorySeparatorChar), Path.GetFullPath(b).TrimEnd(Path.DirectorySeparatorChar), StringComparison.Ordinal);

    public static JsonSerializerOptions Indented { get; } = new() { WriteIndented = true };
}
