namespace RlhfSharp.Training.Trainers;

/// <summary>
/// Accumulates metrics over micro-batches (and data-parallel ranks) as weighted sums, so a mean over
/// a subset (the desirable examples of a KTO batch) stays a mean over that subset when batches are
/// combined. <see cref="Sums"/> can be summed across ranks before <see cref="Means"/> divides.
/// </summary>
internal sealed class MetricMeans
{
    private const string WeightPrefix = "weight:";
    private readonly Dictionary<string, double> _sums = [];

    /// <summary>Adds <paramref name="value"/>, a mean over <paramref name="weight"/> items (skipped when the weight is 0).</summary>
    public void Add(string key, double value, double weight)
    {
        if (weight <= 0)
            return;
        _sums[key] = _sums.GetValueOrDefault(key) + (value * weight);
        _sums[WeightPrefix + key] = _sums.GetValueOrDefault(WeightPrefix + key) + weight;
    }

    /// <summary>Adds to a total (a count) that is reported summed, not averaged.</summary>
    public void AddTotal(string key, double value) => _sums[key] = _sums.GetValueOrDefault(key) + value;

    /// <summary>The weighted sums and their weights, as numbers that add across ranks.</summary>
    public IReadOnlyDictionary<string, double> Sums => _sums;

    /// <summary>Each mean (Σ value·weight / Σ weight) and each total, from sums such as <see cref="Sums"/>.</summary>
    public static Dictionary<string, double> Means(IReadOnlyDictionary<string, double> sums)
    {
        var result = new Dictionary<string, double>();
        foreach (var (k, v) in sums)
        {
            if (k.StartsWith(WeightPrefix, StringComparison.Ordinal))
                continue;
            result[k] = sums.TryGetValue(WeightPrefix + k, out var w) ? v / w : v;
        }
        return result;
    }
}
