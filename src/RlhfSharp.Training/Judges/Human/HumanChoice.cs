namespace RlhfSharp.Training.Judges.Human;

/// <summary>What a person answered about a pair, in terms of the screen they saw.</summary>
public enum HumanChoice
{
    /// <summary>The response shown on the left is better.</summary>
    Left,

    /// <summary>The response shown on the right is better.</summary>
    Right,

    /// <summary>Equally good.</summary>
    Tie,

    /// <summary>Neither is acceptable.</summary>
    BothBad,

    /// <summary>The person passed on this pair.</summary>
    Skip,
}

/// <summary>
/// A label in terms of the pair's content, comparable between labellers and with automatic judges
/// whatever order each saw: the first or the second response in ordinal order of their texts is
/// better, a tie, or both bad. Skips are not judgements and have no value here.
/// </summary>
public enum Judgement
{
    First,
    Second,
    Tie,
    BothBad,
}

/// <summary>The names the JSON lines and the HTTP API use for choices and sides.</summary>
public static class LabelNames
{
    /// <summary><c>left</c>, <c>right</c>, <c>tie</c>, <c>both_bad</c>, <c>skip</c>.</summary>
    public static string Name(HumanChoice choice) => choice switch
    {
        HumanChoice.Left => "left",
        HumanChoice.Right => "right",
        HumanChoice.Tie => "tie",
        HumanChoice.BothBad => "both_bad",
        _ => "skip",
    };

    public static bool TryParseChoice(string? text, out HumanChoice choice)
    {
        (bool ok, choice) = text switch
        {
            "left" => (true, HumanChoice.Left),
            "right" => (true, HumanChoice.Right),
            "tie" => (true, HumanChoice.Tie),
            "both_bad" => (true, HumanChoice.BothBad),
            "skip" => (true, HumanChoice.Skip),
            _ => (false, HumanChoice.Skip),
        };
        return ok;
    }

    public static string Name(Side side) => side == Side.A ? "a" : "b";

    public static bool TryParseSide(string? text, out Side side)
    {
        side = text == "b" ? Side.B : Side.A;
        return text is "a" or "b";
    }

    /// <summary>The label a line without a preference carries: <c>tie</c>, <c>both_bad</c> or <c>skip</c>.</summary>
    public static string NoPreferenceLabel(HumanChoice choice) => choice switch
    {
        HumanChoice.Tie => "tie",
        HumanChoice.BothBad => "both_bad",
        HumanChoice.Skip => "skip",
        _ => throw new ArgumentOutOfRangeException(nameof(choice), choice, "left and right are preferences"),
    };
}
