using System.CommandLine;
using System.Text.Json;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Cli.Commands;

/// <summary>
/// <c>rlhf label stats FILE [--judge_file JUDGE.jsonl] [--json]</c>: per-labeller counts, agreement
/// and Cohen's kappa between every two labellers on the pairs both labelled, and each labeller's
/// agreement with an automatic judge's labels of the same pairs.
/// </summary>
internal static class LabelStatsCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file")
        {
            Description = "The --out file of 'rlhf label --judge human' (its .no_preference.jsonl side file is read too)",
        };
        var judgeFile = new Option<string>("--judge_file", "--judge-file")
        {
            Description = "Preference JSONL of an automatic judge on the same pairs (e.g. prefs_train.jsonl of 'rlhf label --judge constitution')",
            HelpName = "FILE",
        };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON" };
        var command = new Command("stats", "Per-labeller counts, agreement and Cohen's kappa between labellers, and agreement with an automatic judge")
        {
            file,
            judgeFile,
            json,
        };
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var (records, notes) = LabelFiles.Read(parseResult.GetValue(file)!);
            foreach (var note in notes)
                error.WriteLine($"note: {note}");
            var judge = parseResult.GetValue(judgeFile) is { } path ? JudgeLabels.Load(path) : null;
            var report = LabelStats.Compute(records, judge);
            output.Write(parseResult.GetValue(json)
                ? report.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine
                : report.ToText());
            return ExitCodes.Success;
        });
        return command;
    }
}
