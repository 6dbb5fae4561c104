namespace RlhfSharp.Bench;

/// <summary>The smallest, the median and the largest of a set of figures (one per round).</summary>
public readonly record struct Spread(double Min, double Median, double Max)
{
    /// <summary>The spread of <paramref name="values"/>; the median of an even count is the mean of the middle two.</summary>
    public static Spread Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
            throw new ArgumentException("a spread needs at least one value", nameof(values));
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
        return new Spread(sorted[0], median, sorted[^1]);
    }

    /// <summary>
    /// Per-round speed ratios peer ÷ ours (above 1: ours is faster), paired round by round, so a
    /// round where the machine was slow for both sides gives one fair ratio.
    /// </summary>
    public static Spread Ratios(IReadOnlyList<double> peerMs, IReadOnlyList<double> oursMs)
    {
        ArgumentNullException.ThrowIfNull(peerMs);
        ArgumentNullException.ThrowIfNull(oursMs);
        if (peerMs.Count != oursMs.Count)
            throw new ArgumentException($"{peerMs.Count} peer rounds against {oursMs.Count} of ours; ratios pair rounds one to one");
        var ratios = new double[peerMs.Count];
        for (int i = 0; i < ratios.Length; i++)
            ratios[i] = peerMs[i] / oursMs[i];
        return Of(ratios);
    }

    /// <summary>Adds <c>{prefix}_min</c>, <c>_median</c> and <c>_max</c> to a JSON line.</summary>
    public JsonLine AddTo(JsonLine line, string prefix, int digits = 3) =>
        line.Add(prefix + "_min", Min, digits).Add(prefix + "_median", Median, digits).Add(prefix + "_max", Max, digits);
}

/// <summary>
/// The figures of one side-by-side case over its rounds: each round's figure for ours and for the
/// peer (that round's median run), in round order.
/// </summary>
public sealed class Rounds
{
    public List<double> OursMs { get; } = [];

    public List<double> PeerMs { get; } = [];

    public Spread Ours => Spread.Of(OursMs);

    public Spread Peer => Spread.Of(PeerMs);

    public Spread Ratio => Spread.Ratios(PeerMs, OursMs);
}
