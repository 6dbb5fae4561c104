namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// The small phrase inventory responses are built from: an optional opener, the answer sentence
/// ("12." or "The answer is 12."), an optional closer. Kept small so a tiny model can learn it.
/// </summary>
public static class ResponsePhrases
{
    /// <summary>The words <see cref="GoldScorer"/> penalises (matched as word prefixes, any case: "Idiots" counts).</summary>
    public static IReadOnlyList<string> BannedWords { get; } = ["idiot", "stupid", "obviously", "duh", "whatever", "dumb", "ugh"];

    /// <summary>Filler sentences before the answer (7–9 words each).</summary>
    public static IReadOnlyList<string> VerboseOpeners { get; } =
    [
        "Well, let me think about this for a moment.",
        "Hmm, that is a very good question.",
        "Okay, let me work through this step by step.",
    ];

    /// <summary>Filler sentences after the answer (5–9 words each).</summary>
    public static IReadOnlyList<string> VerboseClosers { get; } =
    [
        "I hope this helps you.",
        "Let me know if you have any other questions.",
        "Thank you so much for asking.",
    ];

    /// <summary>Rude prefixes; the answer sentence follows in lower case ("Duh, the answer is 12.").</summary>
    public static IReadOnlyList<string> RudeOpeners { get; } = ["Obviously,", "Duh,", "Ugh, whatever,"];

    /// <summary>Rude sentences after the answer.</summary>
    public static IReadOnlyList<string> RudeClosers { get; } = ["Idiot.", "That was a stupid question.", "Even a dumb kid knows that."];

    /// <summary>The longer answer sentence's frame; its three words set the ideal length (see <see cref="GoldScorer"/>).</summary>
    public const string AnswerFrame = "The answer is";

    /// <summary>Every phrase of the inventory, for checks that no phrase collides with an answer.</summary>
    public static IEnumerable<string> All
        => VerboseOpeners.Concat(VerboseClosers).Concat(RudeOpeners).Concat(RudeClosers).Append(AnswerFrame);

    /// <summary>The short answer sentence: "12.", "tac.", "2 5 9.", "Yes.".</summary>
    public static string ShortAnswer(string answer) => (answer is "yes" or "no" ? Upper(answer) : answer) + ".";

    /// <summary>The long answer sentence: "The answer is 12.".</summary>
    public static string LongAnswer(string answer) => $"{AnswerFrame} {answer}.";

    private static string Upper(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
