using RlhfSharp.Training.BuiltinTask;

namespace RlhfSharp.Training.Rewards;

/// <summary>The built-in task's gold scorer as a reward source (name "gold"): the "human" score, for evaluation or as an oracle reward.</summary>
public sealed class GoldRewardSource(GoldScorer scorer) : IRewardSource
{
    public GoldRewardSource()
        : this(GoldScorer.Default)
    {
    }

    public string Name => "gold";

    public GoldScorer Scorer { get; } = scorer ?? throw new ArgumentNullException(nameof(scorer));

    /// <exception cref="ArgumentException">The lists differ in length, or a prompt is not a task prompt.</exception>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        var scores = new double[prompts.Count];
        for (int i = 0; i < scores.Length; i++) scores[i] = Scorer.Score(prompts[i], responses[i]);
        return scores;
    }
}
