using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Reporting;

/// <summary><c>rlhf report RUN_DIR</c>: the run folder's report.html, made again from its files.</summary>
public sealed class ReportConfig : IValidatableConfig
{
    [ConfigKey("run_dir", "A run folder: a pipeline folder (stages as subfolders) or one stage's run folder")]
    public string? RunDir { get; set; }

    [ConfigKey("samples", "Held-out prompts shown with every policy's response side by side (0 = none)")]
    public int Samples { get; set; } = 12;

    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(RunDir))
            yield return "run_dir is required: rlhf report RUN_DIR";
        if (Samples < 0)
            yield return $"samples must be >= 0, got {Samples}";
    }
}
