using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Pipeline;

/// <summary>
/// Passes progress on with the stage named by its place in the pipeline ("ppo 3/6"), so the
/// console says how far the whole job has come, not only the stage. <paramref name="run"/> names
/// the pipeline's run instead of its trainer ("remax 12/16" for a grpo run, "grpo-seed2 5/9" for one seed's).
/// </summary>
internal sealed class StageProgress(IProgressReporter inner, int index, int count, string? run = null) : IProgressReporter
{
    public void Begin(string stage, long totalSteps, long startStep) => inner.Begin($"{run ?? stage} {index}/{count}", totalSteps, startStep);

    public void Update(long step, IReadOnlyDictionary<string, double> metrics) => inner.Update(step, metrics);

    public void Message(string text) => inner.Message(text);

    public void End() => inner.End();
}
