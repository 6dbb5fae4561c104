namespace RlhfSharp.Training.Rewards.Verifiers;

/// <summary>
/// The length reward (name "length"): −penalty × max(0, n − target), where n is the response's
/// words (whitespace-separated) or characters (after trimming). Zero up to the target, then a
/// linear cost per word or character beyond it; never positive.
/// </summary>
public sealed class LengthPenalty : IRewardSource
{
    /// <summary>The units <c>length_unit</c> accepts.</summary>
    public static IReadOnlyList<string> Units { get; } = ["words", "chars"];

    public LengthPenalty(string unit, int target, double penalty)
    {
        if (!Units.Contains(unit))
            throw new ArgumentException($"unknown unit '{unit}'; valid: {string.Join(", ", Units)}", nameof(unit));
        ArgumentOutOfRangeException.ThrowIfNegative(target);
        if (!(penalty >= 0) || !double.IsFinite(penalty))
            throw new ArgumentOutOfRangeException(nameof(penalty), penalty, "the penalty must be a finite number >= 0");
        Unit = unit;
        Target = target;
        Penalty = penalty;
    }

    public string Name => "length";

    public string Unit { get; }

    public int Target { get; }

    public double Penalty { get; }

    /// <summary>Words or characters in the response.</summary>
    public int Length(string response)
    {
        response = (response ?? "").Trim();
        return Unit == "chars" ? response.Length : response.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
    }

    public double ScoreOne(string response) => -Penalty * Math.Max(0, Length(response) - Target);

    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        return [.. responses.Select(ScoreOne)];
    }
}
