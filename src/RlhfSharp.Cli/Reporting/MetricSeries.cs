namespace RlhfSharp.Cli.Reporting;

/// <summary>One metric over a run: (step, value) points in the order they were logged.</summary>
public sealed class MetricSeries(string name)
{
    private readonly List<(long Step, double Value)> _points = [];

    public string Name { get; } = name;

    public IReadOnlyList<(long Step, double Value)> Points => _points;

    /// <summary>The last logged point (what the run reports now).</summary>
    public (long Step, double Value) Latest => _points[^1];

    internal void Add(long step, double value) => _points.Add((step, value));
}
