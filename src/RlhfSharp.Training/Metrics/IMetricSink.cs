namespace RlhfSharp.Training.Metrics;

/// <summary>
/// A destination for training metrics: scalars keyed by TRL-style slash names (<c>train/loss</c>,
/// <c>objective/kl</c>) and text samples such as generations. Sinks are used from one thread;
/// <see cref="MetricLogger"/> serialises calls when several threads log.
/// </summary>
public interface IMetricSink : IDisposable
{
    /// <summary>Records the scalars of one step. Values may be NaN or infinite; each sink documents how it stores them.</summary>
    void Log(long step, IReadOnlyDictionary<string, double> scalars);

    /// <summary>Records one text sample (a prompt and its generation, a judge's verdict) under <paramref name="tag"/>.</summary>
    void LogText(long step, string tag, string text);

    /// <summary>Pushes everything logged so far to durable storage.</summary>
    void Flush();
}
