using RlhfSharp.Alignment.Ppo;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Rewards;

/// <summary>One weighted source of a <see cref="RewardMixture"/>.</summary>
public sealed record RewardComponent(IRewardSource Source, double Weight);

/// <summary>
/// Several reward sources combined into one (helpful, harmless, concise… each from a reward model,
/// a rule set or a judge): r = Σ_k w_k · n_k(s_k), where n_k is the identity or, with
/// normalisation on, the source's own running standardisation (s − mean_k)/std_k over every
/// response it has scored in training, so sources on different scales weigh as their weights say.
/// Each source's raw scores of the latest call are kept for logging (<c>reward/&lt;name&gt;</c>).
/// </summary>
public sealed class RewardMixture : IRewardSource
{
    private readonly RunningMoments[]? _moments;

    public RewardMixture(IReadOnlyList<RewardComponent> components, bool normalize)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (components.Count == 0)
            throw new ArgumentException("a reward mixture needs at least one source", nameof(components));
        var names = components.Select(c => c.Source.Name).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            throw new ArgumentException($"reward sources must have different names, got [{string.Join(", ", names)}]", nameof(components));
        foreach (var c in components)
            if (!double.IsFinite(c.Weight))
                throw new ArgumentException($"the weight of reward source '{c.Source.Name}' must be a finite number, got {c.Weight}", nameof(components));
        Components = components;
        Normalize = normalize;
        _moments = normalize ? [.. components.Select(_ => new RunningMoments())] : null;
    }

    public string Name => string.Join("+", Components.Select(c => c.Source.Name));

    public IReadOnlyList<RewardComponent> Components { get; }

    public bool Normalize { get; }

    /// <summary>Each source's raw scores from the latest training call, by source name.</summary>
    public IReadOnlyDictionary<string, double[]> LastComponents { get; private set; } = new Dictionary<string, double[]>();

    /// <summary>Adds reward/&lt;name&gt;: the mean raw score of each source in the latest training call (of <paramref name="source"/> when it is a mixture).</summary>
    public static void AddComponentMeans(IRewardSource source, IDictionary<string, double> metrics)
    {
        if (source is RewardMixture mix)
            foreach (var (name, scores) in mix.LastComponents)
                metrics["reward/" + name] = scores.Length == 0 ? double.NaN : scores.Average();
    }

    /// <summary>Scores for training: the running normalisers (if any) first take in this batch.</summary>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
        => Combine(Components.Select(c => c.Source.Score(prompts, responses)).ToList(), update: true);

    /// <summary>Scores for training: the running normalisers (if any) first take in this batch.</summary>
    public double[] ScoreDialogues(IReadOnlyList<IReadOnlyList<ChatMessage>> prompts, IReadOnlyList<string> responses)
        => Combine(Components.Select(c => c.Source.ScoreDialogues(prompts, responses)).ToList(), update: true);

    /// <summary>
    /// Scores for training in a data-parallel run: each source scores this rank's responses,
    /// <paramref name="gather"/> turns a rank's scores into the whole batch's (every rank's, in
    /// rank order), and the normalisers take in the whole batch, as in one process. Returns the
    /// whole batch's totals; <see cref="LastComponents"/> are the whole batch's too.
    /// </summary>
    public double[] ScoreDialogues(IReadOnlyList<IReadOnlyList<ChatMessage>> prompts, IReadOnlyList<string> responses, Func<double[], double[]> gather)
        => Combine(Components.Select(c => gather(c.Source.ScoreDialogues(prompts, responses))).ToList(), update: true);

    /// <summary>Scores for training: the running normalisers (if any) first take in this batch.</summary>
    public double[] ScoreExamples(IReadOnlyList<PromptExample> prompts, IReadOnlyList<string> responses)
        => Combine(Components.Select(c => c.Source.ScoreExamples(prompts, responses)).ToList(), update: true);

    /// <summary>
    /// Scores prompt rows for training in a data-parallel run, as
    /// <see cref="ScoreDialogues(IReadOnlyList{IReadOnlyList{ChatMessage}}, IReadOnlyList{string}, Func{double[], double[]})"/>
    /// does for dialogues: each source sees the rows' other fields (reference answers) too.
    /// </summary>
    public double[] ScoreExamples(IReadOnlyList<PromptExample> prompts, IReadOnlyList<string> responses, Func<double[], double[]> gather)
        => Combine(Components.Select(c => gather(c.Source.ScoreExamples(prompts, responses))).ToList(), update: true);

    /// <summary>Scores prompt rows for evaluation: the normalisers are applied as they stand and not updated.</summary>
    public double[] EvaluateExamples(IReadOnlyList<PromptExample> prompts, IReadOnlyList<string> responses)
        => Combine(Components.Select(c => c.Source.ScoreExamples(prompts, responses)).ToList(), update: false);

    /// <summary>Scores for evaluation: the normalisers are applied as they stand and not updated.</summary>
    public double[] Evaluate(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
        => Combine(Components.Select(c => c.Source.Score(prompts, responses)).ToList(), update: false);

    private double[] Combine(List<double[]> raw, bool update)
    {
        int n = raw[0].Length;
        var total = new double[n];
        var last = new Dictionary<string, double[]>();
        for (int k = 0; k < raw.Count; k++)
        {
            if (raw[k].Length != n)
                throw new InvalidOperationException($"reward source '{Components[k].Source.Name}' returned {raw[k].Length} scores for {n} responses");
            last[Components[k].Source.Name] = raw[k];
            if (_moments is not null && update)
                _moments[k].Update(raw[k]);
            for (int i = 0; i < n; i++)
            {
                double s = _moments is not null && _moments[k].Count > 1 ? _moments[k].Normalize(raw[k][i]) : raw[k][i];
                total[i] += Components[k].Weight * s;
            }
        }
        if (update)
            LastComponents = last;
        return total;
    }

    /// <summary>The normalisers' state (count, mean, M2 per source), for checkpoints; empty without normalisation.</summary>
    public double[] State
    {
        get => _moments is null ? [] : [.. _moments.SelectMany(m => new[] { m.Count, m.Mean, m.M2 })];
        set
        {
            if (_moments is null)
                return;
            if (value.Length != 3 * _moments.Length)
                throw new ArgumentException($"expected {3 * _moments.Length} numbers of normaliser state, got {value.Length}", nameof(value));
            for (int k = 0; k < _moments.Length; k++)
                _moments[k].State = new RunningMomentsState((long)value[3 * k], value[(3 * k) + 1], value[(3 * k) + 2]);
        }
    }
}
