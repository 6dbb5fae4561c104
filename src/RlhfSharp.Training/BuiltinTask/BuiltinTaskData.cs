namespace RlhfSharp.Training.BuiltinTask;

/// <summary>A demonstration: a prompt, the labeller's response, and the style it was drawn as.</summary>
public sealed record Demonstration(string Prompt, string Completion, ResponseStyle Style, double Gold);

/// <summary>A preference pair: the response the labeller chose and the one it rejected, with their gold scores.</summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected, double GoldChosen, double GoldRejected)
{
    /// <summary>Whether the label agrees with the noise-free gold preference.</summary>
    public bool AgreesWithGold => GoldChosen > GoldRejected;
}

/// <summary>Everything <see cref="BuiltinTaskGenerator"/> writes, in memory.</summary>
public sealed record BuiltinTaskData(
    BuiltinTaskOptions Options,
    IReadOnlyList<string> TrainPrompts,
    IReadOnlyList<string> EvalPrompts,
    IReadOnlyList<Demonstration> SftTrain,
    IReadOnlyList<Demonstration> SftEval,
    IReadOnlyList<PreferencePair> PrefsTrain,
    IReadOnlyList<PreferencePair> PrefsEval,
    int TiesRedrawn)
{
    /// <summary>Share of train pairs whose noisy label agrees with the gold preference.</summary>
    public double MeasuredAgreement => PrefsTrain.Count == 0 ? double.NaN : PrefsTrain.Count(p => p.AgreesWithGold) / (double)PrefsTrain.Count;

    /// <summary>The agreement the Bradley–Terry labeller has in expectation: mean of σ(|Δgold|/τ) over the train pairs.</summary>
    public double ExpectedAgreement => PrefsTrain.Count == 0 ? double.NaN
        : PrefsTrain.Average(p => 1 / (1 + Math.Exp(-Math.Abs(p.GoldChosen - p.GoldRejected) / Options.Tau)));

    /// <summary>Mean gold score of the train demonstrations of each style (NaN for a style with none).</summary>
    public double AverageGold(ResponseStyle style)
    {
        var g = SftTrain.Where(d => d.Style == style).Select(d => d.Gold).ToList();
        return g.Count == 0 ? double.NaN : g.Average();
    }
}
