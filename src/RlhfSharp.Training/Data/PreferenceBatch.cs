namespace RlhfSharp.Training.Data;

/// <summary>
/// Chosen and rejected sequences for the same prompts, row for row. Both sides are padded to the
/// same length T, so a trainer may concatenate them along the batch dimension for one forward pass.
/// </summary>
/// <param name="Chosen">The prompts followed by the preferred responses.</param>
/// <param name="Rejected">The same prompts followed by the dispreferred responses.</param>
/// <param name="Examples">The pairs, in row order.</param>
public sealed record PreferenceBatch(SequenceBatch Chosen, SequenceBatch Rejected, IReadOnlyList<PreferenceExample> Examples);
