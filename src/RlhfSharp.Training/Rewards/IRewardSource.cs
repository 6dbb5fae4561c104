namespace RlhfSharp.Training.Rewards;

/// <summary>
/// Scores responses to prompts: a reward model, a rule, a judge or a mixture. The RL trainers call
/// it once per batch of rollouts; <c>responses[i]</c> answers <c>prompts[i]</c>, and the result
/// holds one scalar per pair (higher is better).
/// </summary>
public interface IRewardSource
{
    /// <summary>The name metrics are logged under (e.g. "gold" gives <c>rewards/gold</c>).</summary>
    string Name { get; }

    double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);
}
