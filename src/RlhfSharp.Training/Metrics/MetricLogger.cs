using System.Runtime.ExceptionServices;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// The front door for metrics: validates names and steps once, then hands every call to each sink
/// in order. It owns its sinks and disposes them. Calls are serialised with a lock, so a trainer may
/// log from more than one thread. If a sink throws, the remaining sinks still receive the call and
/// the failure is rethrown afterwards (an <see cref="AggregateException"/> when several failed).
/// </summary>
public sealed class MetricLogger : IMetricSink
{
    private readonly IMetricSink[] _sinks;
    private readonly Lock _gate = new();
    private bool _disposed;

    public MetricLogger(params IEnumerable<IMetricSink> sinks)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        _sinks = sinks.ToArray();
        if (_sinks.Any(s => s is null))
            throw new ArgumentException("A metric sink is null.", nameof(sinks));
    }

    public IReadOnlyList<IMetricSink> Sinks => _sinks;

    public void Log(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentNullException.ThrowIfNull(scalars);
        foreach (var name in scalars.Keys)
            MetricNames.Validate(name, nameof(scalars));
        Broadcast(s => s.Log(step, scalars));
    }

    /// <summary>Logs a single scalar.</summary>
    public void Log(long step, string name, double value) => Log(step, new Dictionary<string, double> { [name] = value });

    public void LogText(long step, string tag, string text)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        MetricNames.Validate(tag, nameof(tag));
        ArgumentNullException.ThrowIfNull(text);
        Broadcast(s => s.LogText(step, tag, text));
    }

    public void Flush() => Broadcast(s => s.Flush());

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
                return;
            _disposed = true;
            Each(s => s.Dispose());
        }
    }

    private void Broadcast(Action<IMetricSink> call)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Each(call);
        }
    }

    private void Each(Action<IMetricSink> call)
    {
        List<Exception>? errors = null;
        foreach (var sink in _sinks)
        {
            try
            {
                call(sink);
            }
            catch (Exception e)
            {
                (errors ??= []).Add(e);
            }
        }
        if (errors is null)
            return;
        // Sinks that all fail for a reason the user can fix (a full disk fails every file) report the first.
        if (errors.Count == 1 || errors.All(e => e is IUserError))
            ExceptionDispatchInfo.Throw(errors[0]);
        throw new AggregateException("Several metric sinks failed.", errors);
    }
}
