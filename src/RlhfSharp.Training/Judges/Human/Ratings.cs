using System.Text.Json.Nodes;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>
/// A person's optional 1–7 ratings of one response on the three axes of Askell et al. (2021),
/// helpful, honest and harmless: the per-objective data a multi-objective reward can train on.
/// </summary>
public sealed record Ratings(int? Helpful, int? Honest, int? Harmless)
{
    public const int Min = 1;
    public const int Max = 7;

    /// <summary>The axis names, as JSON keys.</summary>
    public static IReadOnlyList<string> Axes { get; } = ["helpful", "honest", "harmless"];

    public bool IsEmpty => Helpful is null && Honest is null && Harmless is null;

    public int? this[string axis] => axis switch
    {
        "helpful" => Helpful,
        "honest" => Honest,
        "harmless" => Harmless,
        _ => throw new ArgumentOutOfRangeException(nameof(axis), axis, "axes are helpful, honest and harmless"),
    };

    public JsonObject ToJson()
    {
        var o = new JsonObject();
        foreach (var axis in Axes)
            if (this[axis] is { } v)
                o[axis] = v;
        return o;
    }
}
