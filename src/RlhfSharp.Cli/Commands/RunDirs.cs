using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Cli.Verbs;
using RlhfSharp.Training.Metrics;

namespace RlhfSharp.Cli.Commands;

/// <summary>Where a training verb writes, and how it reports the result.</summary>
internal static class RunDirs
{
    /// <summary>--out, else the --resume folder, else runs/&lt;verb&gt;-&lt;UTC time&gt;.</summary>
    public static string Resolve(VerbContext context, string verb) =>
        context.OutDir ?? Path.Combine("runs", RunFolder.TimestampedName(verb, DateTimeOffset.UtcNow));

    public static void PrintSummary(TextWriter output, string runDir, JsonObject summary)
    {
        output.WriteLine($"run folder: {Path.GetFullPath(runDir)}");
        foreach (var (k, v) in summary)
        {
            if (v is JsonValue value && value.TryGetValue<double>(out var d))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {k,-28} {d:G6}"));
        }
    }
}
