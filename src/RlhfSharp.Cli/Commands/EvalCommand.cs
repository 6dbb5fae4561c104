using System.Text.Json;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Models.IO;
using RlhfSharp.Training.Evaluation;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf eval --models A,B,… --data DIR</c>: the models answer the same held-out prompts, the gold
/// scorer (or --reward_model) judges; prints each model's mean score and the pairwise win-rate
/// matrix, and writes them as JSON to --out FILE when given.
/// </summary>
public sealed class EvalCommand : ConfigVerb<EvalConfig>
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public override string Name => "eval";

    public override string Description => "Compare models on the same held-out prompts: mean gold (or reward model) score and the pairwise win-rate matrix";

    protected override int Run(EvalConfig config, VerbContext context)
    {
        var result = EvalRunner.Run(config, ConsoleProgress.ForConsole(context.Output));
        context.Output.Write(result.FormatTables());
        if (context.OutDir is { } path)
        {
            AtomicFile.WriteAllText(path, result.ToJson().ToJsonString(Indented) + "\n");
            context.Output.WriteLine($"wrote {Path.GetFullPath(path)}");
        }
        return ExitCodes.Success;
    }
}
