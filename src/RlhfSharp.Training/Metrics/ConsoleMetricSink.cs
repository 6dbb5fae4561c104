using System.Globalization;
using System.Text;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// Writes a compact one-line summary, <c>step 120 | train/loss 1.234 | objective/kl 0.01235</c>, to a
/// <see cref="TextWriter"/> for runs without an interactive terminal (logs, CI). It prints the first logged
/// step, then a step whenever a multiple of <c>everySteps</c> has been reached since the last printed one
/// (so sparse logging still prints), and on dispose the last step if it was not printed yet. Values use
/// four significant digits in the invariant culture.
/// </summary>
public sealed class ConsoleMetricSink : IMetricSink
{
    private const int MaxTextChars = 200;

    private readonly TextWriter _writer;
    private readonly int _everySteps;
    private readonly IReadOnlyList<string>? _keys;
    private readonly bool _showText;
    private readonly bool _ownsWriter;
    private long? _lastPrinted;
    private string? _pending;
    private bool _disposed;

    /// <param name="writer">Where lines go, typically <see cref="Console.Out"/>.</param>
    /// <param name="everySteps">Print about one line per this many steps.</param>
    /// <param name="keys">Metrics to show, in this order; all logged metrics in their given order when null.</param>
    /// <param name="showText">Also print text samples, one line each, cut to 200 characters.</param>
    /// <param name="ownsWriter">Dispose <paramref name="writer"/> with the sink.</param>
    public ConsoleMetricSink(TextWriter writer, int everySteps = 1, IReadOnlyList<string>? keys = null, bool showText = false, bool ownsWriter = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfLessThan(everySteps, 1);
        _writer = writer;
        _everySteps = everySteps;
        _keys = keys?.ToArray();
        _showText = showText;
        _ownsWriter = ownsWriter;
    }

    public void Log(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(scalars);
        var line = FormatLine(step, scalars);
        if (_lastPrinted is { } last && step / _everySteps <= last / _everySteps)
        {
            _pending = line;
            return;
        }
        _writer.WriteLine(line);
        _lastPrinted = step;
        _pending = null;
    }

    public void LogText(long step, string tag, string text)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(tag);
        ArgumentNullException.ThrowIfNull(text);
        if (!_showText)
            return;
        var oneLine = text.ReplaceLineEndings("\\n");
        if (oneLine.Length > MaxTextChars)
            oneLine = string.Concat(oneLine.AsSpan(0, MaxTextChars), "…");
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"step {step} | {tag}: {oneLine}"));
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _writer.Flush();
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (_pending is not null)
            _writer.WriteLine(_pending);
        _writer.Flush();
        if (_ownsWriter)
            _writer.Dispose();
    }

    /// <summary>Formats a value as the line does: four significant digits, invariant culture.</summary>
    public static string FormatValue(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private string FormatLine(long step, IReadOnlyDictionary<string, double> scalars)
    {
        var sb = new StringBuilder();
        sb.Append("step ").Append(step.ToString(CultureInfo.InvariantCulture));
        if (_keys is null)
        {
            foreach (var (name, value) in scalars)
                sb.Append(" | ").Append(name).Append(' ').Append(FormatValue(value));
        }
        else
        {
            foreach (var name in _keys)
            {
                if (scalars.TryGetValue(name, out var value))
                    sb.Append(" | ").Append(name).Append(' ').Append(FormatValue(value));
            }
        }
        return sb.ToString();
    }
}
