namespace RlhfSharp.Training.Metrics;

/// <summary>
/// Metric names as TRL and the Hugging Face Trainer log them, so curves line up with the ones the
/// community already reads. Names are slash-separated; TensorBoard groups charts by the first part.
/// </summary>
public static class MetricNames
{
    /// <summary>Names no metric may take: the JSONL sink uses them for its own fields.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal) { "step", "time", "tag", "text" };

    public static class Train
    {
        public const string Loss = "train/loss";
        public const string LearningRate = "train/learning_rate";
        public const string GradNorm = "train/grad_norm";
        public const string Epoch = "train/epoch";
        public const string TokensPerSecond = "train/tokens_per_second";
    }

    public static class Eval
    {
        public const string Loss = "eval/loss";
        public const string Accuracy = "eval/accuracy";
    }

    /// <summary>PPO objective terms (TRL <c>PPOTrainer</c>).</summary>
    public static class Objective
    {
        public const string Kl = "objective/kl";
        public const string Entropy = "objective/entropy";
        public const string NonScoreReward = "objective/non_score_reward";
        public const string RlhfReward = "objective/rlhf_reward";
        public const string Scores = "objective/scores";
    }

    public static class Policy
    {
        public const string ApproxKl = "policy/approxkl_avg";
        public const string ClipFrac = "policy/clipfrac_avg";
        public const string Entropy = "policy/entropy_avg";
    }

    public static class Loss
    {
        public const string Policy = "loss/policy_avg";
        public const string Value = "loss/value_avg";
    }

    public static class Val
    {
        public const string ClipFrac = "val/clipfrac_avg";
        public const string Ratio = "val/ratio";
        public const string RatioVar = "val/ratio_var";
        public const string NumEosTokens = "val/num_eos_tokens";
    }

    /// <summary>Implicit rewards of DPO-family losses and reward-model scores on preference pairs.</summary>
    public static class Rewards
    {
        public const string Chosen = "rewards/chosen";
        public const string Rejected = "rewards/rejected";
        public const string Accuracies = "rewards/accuracies";
        public const string Margins = "rewards/margins";
    }

    public static class Logps
    {
        public const string Chosen = "logps/chosen";
        public const string Rejected = "logps/rejected";
    }

    public static class Logits
    {
        public const string Chosen = "logits/chosen";
        public const string Rejected = "logits/rejected";
    }

    /// <summary>
    /// Throws <see cref="ArgumentException"/> unless <paramref name="name"/> is a usable metric name:
    /// not empty, no leading, trailing or doubled slash, no whitespace or control characters at its ends
    /// or control characters anywhere, and not one of <see cref="Reserved"/>.
    /// </summary>
    public static void Validate(string name, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        string? problem = null;
        if (name.Length == 0)
            problem = "it is empty";
        else if (name.Trim().Length != name.Length)
            problem = "it starts or ends with whitespace";
        else if (name.Any(char.IsControl))
            problem = "it contains a control character";
        else if (name.StartsWith('/') || name.EndsWith('/') || name.Contains("//", StringComparison.Ordinal))
            problem = "it has a leading, trailing or doubled '/'";
        else if (Reserved.Contains(name))
            problem = $"'{name}' is reserved for the JSONL record fields ({string.Join(", ", Reserved)})";
        if (problem is not null)
            throw new ArgumentException($"Metric name \"{name}\" is not usable: {problem}. Use slash-separated names such as \"{Train.Loss}\".", paramName);
    }
}
