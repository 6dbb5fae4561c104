using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Evaluation;

/// <summary>A policy's responses to held-out prompts, with gold scores when a gold scorer exists.</summary>
/// <param name="KlToRef">The sampled KL to the reference, Σ_t log π − log π_ref per answer averaged, where it was measured.</param>
public sealed record EvalResult(IReadOnlyList<string> Prompts, IReadOnlyList<string> Responses, double[]? Gold, double? KlToRef = null)
{
    public double MeanGold => Gold is { Length: > 0 } g ? g.Average() : double.NaN;
}

/// <summary>
/// Generates responses for held-out prompts in batches (greedy by default, so evaluations are
/// reproducible) and scores them; compares two policies by gold-judged win rate.
/// </summary>
public sealed class PolicyEvaluator(BpeTokenizer tokenizer, PromptCollator collator, int batchSize = 32)
{
    /// <summary>
    /// The policy's answers to <paramref name="prompts"/>, gold-scored when <paramref name="gold"/> is given;
    /// <paramref name="onBatch"/> sees each batch of rollouts (for log-probs).
    /// </summary>
    public EvalResult Evaluate(CausalLM policy, IReadOnlyList<PromptExample> prompts, GenerationOptions options, IRewardSource? gold, ulong seed,
        Action<RolloutBatch>? onBatch = null)
    {
        var rng = new Generator(seed);
        var texts = new List<string>();
        var responses = new List<string>();
        for (int start = 0; start < prompts.Count; start += batchSize)
        {
            var chunk = prompts.Skip(start).Take(batchSize).ToList();
            var rollout = Rollouts.Generate(policy, collator, tokenizer, chunk, options, rng);
            responses.AddRange(rollout.Texts);
            texts.AddRange(chunk.Select(PromptText));
            onBatch?.Invoke(rollout);
        }
        return new EvalResult(texts, responses, gold?.Score(texts, responses));
    }

    /// <summary>The text of the last user turn (what a task's scorer reads).</summary>
    public static string PromptText(PromptExample example) =>
        example.Messages.LastOrDefault(m => m.Role == "user")?.Content ?? example.Messages[^1].Content;

    /// <summary>
    /// The prompts (or one item per prompt, such as its skill) answered <paramref name="rounds"/> times: the list repeated in rounds, so every
    /// policy compared on it answers each prompt the same number of times from one sample stream.
    /// </summary>
    public static List<T> InRounds<T>(IReadOnlyList<T> prompts, int rounds) =>
        [.. Enumerable.Repeat(prompts, Math.Max(1, rounds)).SelectMany(x => x)];

    /// <summary>Fraction of prompts where <paramref name="policy"/> scores higher than <paramref name="reference"/>; ties count half.</summary>
    public static double WinRate(IReadOnlyList<double> policy, IReadOnlyList<double> reference)
    {
        if (policy.Count != reference.Count || policy.Count == 0)
            throw new ArgumentException($"win rate needs two equally long, non-empty score lists, got {policy.Count} and {reference.Count}");
        double wins = 0;
        for (int i = 0; i < policy.Count; i++)
            wins += policy[i] > reference[i] ? 1 : policy[i] == reference[i] ? 0.5 : 0;
        return wins / policy.Count;
    }
}
