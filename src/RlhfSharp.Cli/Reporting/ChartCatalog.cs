namespace RlhfSharp.Cli.Reporting;

/// <summary>
/// A chart the report draws for a run when the run logged any of <see cref="When"/>: the metrics
/// of <see cref="Main"/> on one panel and those of <see cref="Lower"/> on a panel below it.
/// </summary>
public sealed record ChartSpec(string Id, string Title, string[] Main, string[] Lower, string[] When);

/// <summary>
/// The charts of the report, by the metric names the trainers log (TRL's names): SFT and reward
/// model losses and accuracy, PPO's proxy score against gold score and KL with the KL coefficient
/// below, GRPO's reward, DPO's implicit rewards, clip fractions, entropies, response lengths and the
/// held-out evaluation. Metrics none of these show are drawn one to a chart under "other metrics".
/// </summary>
public static class ChartCatalog
{
    public static readonly IReadOnlyList<ChartSpec> Charts =
    [
        Chart("loss", "Loss", ["train/loss", "eval/loss", "loss"]),
        new("ppo-score", "Proxy score vs gold score vs KL, KL coefficient below",
            ["objective/scores", "objective/gold_score", "objective/kl"], ["objective/kl_coef"], ["objective/scores", "objective/kl", "objective/kl_coef"]),
        new("grpo-reward", "Reward vs gold score vs KL", ["reward", "objective/gold_score", "kl"], [], ["reward"]),
        Chart("ppo-losses", "Policy and value loss", ["loss/policy", "loss/value", "loss/ptx"]),
        Chart("accuracy", "Preference accuracy", ["train/accuracy", "eval/accuracy", "rewards/accuracies", "eval/rewards/accuracies"]),
        Chart("rewards", "Rewards of chosen and rejected responses", ["rewards/chosen", "rewards/rejected", "rewards/margins", "eval/rewards/margins"]),
        Chart("clipfrac", "Clip fraction", ["policy/clipfrac", "val/clipfrac", "clip_ratio"]),
        Chart("entropy", "Entropy", ["objective/entropy", "policy/entropy", "entropy"]),
        Chart("length", "Response length (tokens)", ["rollout/response_length", "completions/mean_length"]),
        Chart("heldout", "Held-out evaluation", ["eval/gold_score", "eval/win_rate_vs_ref", "eval/score"]),
        Chart("heldout-words", "Held-out response length (words)", ["eval/response_words"]),
        Chart("heldout-kl", "Held-out KL to the reference", ["eval/kl_to_ref", "eval/sqrt_kl"]),
        Chart("kl-detail", "Policy KL and ratios", ["policy/approxkl", "policy/ratio_mean", "policy/ratio_max"]),
        Chart("value", "Critic", ["val/vpred", "val/return", "val/explained_variance"]),
        Chart("learning-rate", "Learning rate", ["train/learning_rate"]),
        Chart("grad-norm", "Gradient norm", ["train/grad_norm", "train/grad_norm_policy", "train/grad_norm_critic"]),
    ];

    /// <summary>The catalogue charts <paramref name="metrics"/> has data for, and the metrics they leave out.</summary>
    public static (List<ChartSpec> Charts, List<MetricSeries> Other) For(StageMetrics metrics)
    {
        var shown = Charts.Where(c => c.When.Any(metrics.Has)).ToList();
        var covered = shown.SelectMany(c => c.Main.Concat(c.Lower)).ToHashSet(StringComparer.Ordinal);
        return (shown, [.. metrics.Series.Where(s => !covered.Contains(s.Name))]);
    }

    private static ChartSpec Chart(string id, string title, string[] main) => new(id, title, main, [], main);
}
