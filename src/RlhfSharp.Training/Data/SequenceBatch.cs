using RlhfSharp.Tensors;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Right-padded prompt + response sequences, one side of a <see cref="PreferenceBatch"/>. Row b
/// holds the prompt in <c>[0, PromptLengths[b])</c>, the response in
/// <c>[PromptLengths[b], Lengths[b])</c> and padding after. Masks are aligned with the tokens:
/// the DPO sum of response log-probabilities is
/// <c>(F.TokenLogProbs(logits[:, :-1], InputIds[:, 1:]) · ResponseMask[:, 1:]).Sum(1)</c>, and a
/// reward model reads its score at the last real token, index <c>Lengths[b] − 1</c>.
/// </summary>
/// <param name="InputIds">int32 [B, T].</param>
/// <param name="AttentionMask">float [B, T]; 1 on real tokens.</param>
/// <param name="ResponseMask">float [B, T]; 1 on response tokens (content, end-of-turn marker, appended EOS).</param>
/// <param name="PromptLengths">int32 [B]; prompt tokens per row, after truncation.</param>
/// <param name="Lengths">int32 [B]; real tokens per row (prompt + response).</param>
public sealed record SequenceBatch(Tensor InputIds, Tensor AttentionMask, Tensor ResponseMask, Tensor PromptLengths, Tensor Lengths);
