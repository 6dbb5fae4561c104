namespace RlhfSharp.Training.Metrics;

/// <summary>A <c>checkpoint-&lt;step&gt;</c> folder inside a run folder.</summary>
/// <param name="Step">The training step the checkpoint was saved at.</param>
/// <param name="Path">Full path of the checkpoint folder.</param>
public sealed record CheckpointEntry(long Step, string Path);
