using RlhfSharp.Tensors;

namespace RlhfSharp.Training.Data;

/// <summary>
/// LEFT-padded prompts for generation: every row ends with the template's generation prompt at
/// the last column, so the sampled tokens continue all rows from the same position.
/// Row b's real tokens are <c>[P − Lengths[b], P)</c>.
/// </summary>
/// <param name="InputIds">int32 [B, P]; padding (on the left) holds the pad id.</param>
/// <param name="AttentionMask">float [B, P]; 1 on real tokens, 0 on padding.</param>
/// <param name="Lengths">int32 [B]; real prompt tokens per row, after truncation.</param>
/// <param name="Examples">The prompts, in row order.</param>
public sealed record PromptBatch(Tensor InputIds, Tensor AttentionMask, Tensor Lengths, IReadOnlyList<PromptExample> Examples);
