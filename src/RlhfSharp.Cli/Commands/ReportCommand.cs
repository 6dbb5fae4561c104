using RlhfSharp.Cli.Reporting;
using RlhfSharp.Cli.Verbs;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf report RUN_DIR [--out FILE]</c>: writes the run's report.html (RUN_DIR/report.html unless
/// --out names another file) from the files the run wrote. The same files give the same bytes.
/// </summary>
public sealed class ReportCommand : ConfigVerb<ReportConfig>
{
    public override string Name => "report";

    public override string Description => "Write a run folder's report.html (training curves, results table, responses side by side) from its files";

    protected override string? PositionalKey => "run_dir";

    protected override string PositionalName => "RUN_DIR";

    protected override int Run(ReportConfig config, VerbContext context)
    {
        var path = ReportPage.Write(config.RunDir!, context.OutDir, new ReportOptions { Samples = config.Samples });
        context.Output.WriteLine($"wrote {path}");
        return ExitCodes.Success;
    }
}
