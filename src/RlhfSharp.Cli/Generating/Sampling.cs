namespace RlhfSharp.Cli.Generating;

/// <summary>How a reply's tokens are drawn.</summary>
/// <param name="MaxNewTokens">Most new tokens.</param>
/// <param name="Temperature">0 = greedy.</param>
/// <param name="TopK">0 = off.</param>
/// <param name="TopP">1 = off.</param>
/// <param name="Seed">Seeds the generator.</param>
/// <param name="Stop">Strings that end the reply.</param>
internal sealed record Sampling(int MaxNewTokens, float Temperature, int TopK, float TopP, long Seed, IReadOnlyList<string> Stop)
{
    /// <summary>A generator seeded with <see cref="Seed"/>.</summary>
    public Tensors.Generator NewGenerator() => new(unchecked((ulong)Seed));
}
