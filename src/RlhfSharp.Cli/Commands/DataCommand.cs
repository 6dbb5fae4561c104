using System.CommandLine;
using System.Globalization;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf data …</c>: data sets the trainers read. Today: <c>rlhf data builtin</c>. Its help says
/// that every data file may also be Parquet.
/// </summary>
public sealed class DataCommand : IVerb
{
    /// <summary>What the trainers read, for the help text.</summary>
    public const string Formats =
        "The trainers read JSONL, and Parquet with the same columns wherever a .jsonl file is accepted: a .parquet file, "
        + "a folder of .parquet shards, or a pattern such as data/train-*.parquet (read in name order); "
        + "chat columns as Hugging Face writes them, list<struct<content, role>>.";

    public Command CreateCommand()
    {
        var data = new Command("data", "Write data sets the trainers read. " + Formats);
        data.Add(new BuiltinDataCommand().CreateCommand());
        return data;
    }
}

/// <summary>The built-in task's options as config keys.</summary>
public sealed class BuiltinDataConfig : IValidatableConfig
{
    [ConfigKey("seed", "Seed of every random choice (the same seed writes the same files)")]
    public int Seed { get; set; } = 1;

    [ConfigKey("train_prompts", "Training prompts (demonstrations and RL prompts)")]
    public int TrainPrompts { get; set; } = 6000;

    [ConfigKey("eval_prompts", "Held-out prompts")]
    public int EvalPrompts { get; set; } = 200;

    [ConfigKey("preference_pairs", "Labelled preference pairs for reward modelling")]
    public int PreferencePairs { get; set; } = 8000;

    [ConfigKey("disjoint_problems", "Keep every problem of the held-out prompts out of train (not only their wording)")]
    public bool DisjointProblems { get; set; }

    [ConfigKey("tau", "Bradley-Terry temperature of the simulated labeller (lower = more agreement with gold)")]
    public double Tau { get; set; } = 0.75;

    [ConfigKey("vocab_size", "Size of the byte-level BPE vocabulary trained on the corpus")]
    public int VocabSize { get; set; } = 512;

    public IEnumerable<string> Validate()
    {
        if (TrainPrompts <= 0 || EvalPrompts <= 0 || PreferencePairs <= 0)
            yield return "train_prompts, eval_prompts and preference_pairs must be positive";
        if (!(Tau > 0))
            yield return $"tau must be positive, got {Tau}";
    }
}

/// <summary><c>rlhf data builtin --out DIR</c>: the offline task with a gold scorer.</summary>
public sealed class BuiltinDataCommand : ConfigVerb<BuiltinDataConfig>
{
    // Registered under `rlhf data`, not at the top level.
    internal BuiltinDataCommand()
    {
    }

    public override string Name => "builtin";

    public override string Description => "Write the built-in task: demonstrations, preference pairs, prompts, a tokenizer and a gold scorer";

    protected override int Run(BuiltinDataConfig config, VerbContext context)
    {
        var outDir = context.OutDir ?? throw new ConfigException("--out", null, "rlhf data builtin needs --out DIR: the folder to write the data set to");
        var options = new BuiltinTaskOptions
        {
            Seed = (ulong)config.Seed,
            TrainPrompts = config.TrainPrompts,
            EvalPrompts = config.EvalPrompts,
            PreferencePairs = config.PreferencePairs,
            Tau = config.Tau,
            DisjointProblems = config.DisjointProblems,
            TokenizerVocabSize = config.VocabSize,
        };
        var data = BuiltinTaskGenerator.Write(outDir, options);
        context.Output.WriteLine($"wrote the built-in task to {Path.GetFullPath(outDir)}");
        context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {data.SftTrain.Count} demonstrations, {data.PrefsTrain.Count} preference pairs (labeller agreement with gold {data.MeasuredAgreement:P1}), {data.EvalPrompts.Count} held-out prompts"));
        return ExitCodes.Success;
    }
}
