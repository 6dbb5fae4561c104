using RlhfSharp.Tensors;

namespace RlhfSharp.Training.Data;

/// <summary>
/// A right-padded SFT batch. Masks are aligned with the tokens, not with the predictions:
/// <c>LossMask[b, t] = 1</c> when token t is a trained target (a completion token, its end-of-turn
/// marker and any appended EOS; every real token after the first with whole-sequence loss).
/// Logits at position t predict token t + 1, so the loss is
/// <c>CE(logits[:, :-1], InputIds[:, 1:])</c> weighted by <c>LossMask[:, 1:]</c> and divided by
/// its sum — or, HF-style, <c>F.CrossEntropy(logits[:, :-1], Labels[:, 1:])</c> with the default
/// ignore index −100. <c>LossMask[:, 0]</c> is always 0 (nothing predicts the first token), so
/// <c>LossMask.Sum()</c> is the number of trained targets.
/// </summary>
/// <param name="InputIds">int32 [B, T]; padding holds the pad id.</param>
/// <param name="AttentionMask">float [B, T]; 1 on real tokens, 0 on padding.</param>
/// <param name="LossMask">float [B, T]; 1 on trained target tokens.</param>
/// <param name="Labels">int32 [B, T]; InputIds where LossMask is 1, −100 elsewhere.</param>
/// <param name="Examples">The examples, in row order.</param>
public sealed record SftBatch(Tensor InputIds, Tensor AttentionMask, Tensor LossMask, Tensor Labels, IReadOnlyList<SftExample> Examples)
{
    /// <summary>The label that marks a position the loss ignores.</summary>
    public const int IgnoreIndex = -100;
}
