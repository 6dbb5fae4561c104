using System.Globalization;

namespace RlhfSharp.Serving;

/// <summary>How one request wants its answer generated; requests with equal settings can share a batch.</summary>
/// <param name="MaxTokens">Most response tokens (>= 1).</param>
/// <param name="Temperature">0 = greedy, else the softmax temperature.</param>
/// <param name="TopP">Nucleus mass (1 = off); ignored when greedy.</param>
/// <param name="Stop">Strings that end the answer.</param>
internal sealed record SamplingSettings(int MaxTokens, float Temperature, float TopP, IReadOnlyList<string> Stop)
{
    public bool Greedy => Temperature == 0f;

    /// <summary>Equal for settings that give the same answers when batched together.</summary>
    public string GroupKey => string.Join('\u0000', new[]
    {
        MaxTokens.ToString(CultureInfo.InvariantCulture),
        Greedy ? "greedy" : Temperature.ToString("R", CultureInfo.InvariantCulture),
        Greedy ? "" : TopP.ToString("R", CultureInfo.InvariantCulture),
    }.Concat(Stop));
}
