namespace RlhfSharp.Training.BuiltinTask;

/// <summary>The kinds of demonstration the noisy labeller writes (see <see cref="ResponseWriter"/>).</summary>
public enum ResponseStyle
{
    /// <summary>Concise and correct: "12." or "The answer is 12.".</summary>
    Ideal,

    /// <summary>Correct, wrapped in filler: "Well, let me think about this for a moment. The answer is 12.".</summary>
    Verbose,

    /// <summary>Correct but rude, with banned words: "Obviously, the answer is 12. Idiot.".</summary>
    Rude,

    /// <summary>Wrong, with a plausible mistake (off by one, unreversed word, unsorted list…), in the form of one of the other styles: "13.", "Duh, the answer is 13.".</summary>
    Wrong,
}
