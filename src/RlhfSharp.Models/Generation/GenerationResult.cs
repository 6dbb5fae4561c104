using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Generation;

/// <summary>
/// Output of batched generation. Sequences = left-padded prompt then response, right-padded:
/// sequences/attention mask [B, P+N]; response ids, response mask and log-probs [B, N] (log-prob 0
/// and mask 0 after a row ended); <see cref="Ended"/> tells whether a row stopped by EOS or a stop
/// string (false: it ran out of tokens).
/// </summary>
public sealed record GenerationResult(
    Tensor Sequences,
    Tensor AttentionMask,
    Tensor ResponseIds,
    Tensor ResponseMask,
    Tensor LogProbs,
    int[] ResponseLengths,
    bool[] Ended,
    int PromptLength)
{
    /// <summary>Rows that <see cref="GenerationOptions.StopRow"/> stopped before they ended (all false without it).</summary>
    public bool[] Stopped { get; init; } = new bool[Ended.Length];
}
