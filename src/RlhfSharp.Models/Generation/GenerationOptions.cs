namespace RlhfSharp.Models.Generation;

/// <summary>
/// How to generate. Log-probs are always reported under the plain temperature-scaled softmax
/// (the distribution RL losses assume); top-k / top-p change which tokens can be drawn, so a
/// trainer that turns them on should know its log-probs no longer describe the sampler exactly.
/// </summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 32;

    /// <summary>False: greedy (arg-max) decoding.</summary>
    public bool DoSample { get; init; } = true;

    /// <summary>Softmax temperature (> 0).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens (0 = off).</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of tokens whose probability reaches p (1 = off).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Token ids that end a sequence (kept as its last response token).</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Filler written after a sequence has ended.</summary>
    public int PadTokenId { get; init; }

    /// <summary>Strings that end a sequence once the decoded response contains one (needs <see cref="Decode"/>).</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Turns response ids into text, for stop strings.</summary>
    public Func<IReadOnlyList<int>, string>? Decode { get; init; }

    /// <summary>
    /// Called on the generating thread for every token a row draws, as soon as it is drawn (for
    /// streaming). Null: no calls. It only watches: the tokens drawn are the same with or without it.
    /// </summary>
    public Action<SampledToken>? OnToken { get; init; }

    /// <summary>
    /// Asked before each step about every row still running: true stops that row there (its caller
    /// went away), and the generation ends early once every row has ended or stopped. A stopped row
    /// keeps the tokens drawn so far and is marked in <see cref="GenerationResult.Stopped"/>. Null:
    /// rows end only by EOS, a stop string or <see cref="MaxNewTokens"/>.
    /// </summary>
    public Func<int, bool>? StopRow { get; init; }

    internal void Validate()
    {
        if (MaxNewTokens < 0)
            throw new ArgumentException($"MaxNewTokens must be >= 0, got {MaxNewTokens}");
        if (!(Temperature > 0))
            throw new ArgumentException($"Temperature must be > 0, got {Temperature}; use DoSample = false for greedy decoding");
        if (TopK < 0)
            throw new ArgumentException($"TopK must be >= 0, got {TopK}");
        if (!(TopP > 0 && TopP <= 1))
            throw new ArgumentException($"TopP must be in (0, 1], got {TopP}");
        if (StopStrings.Count > 0 && Decode is null)
            throw new ArgumentException("StopStrings need a Decode function to turn response ids into text");
    }
}
