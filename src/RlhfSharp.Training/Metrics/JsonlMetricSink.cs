using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// Writes one JSON object per logged step to <c>metrics.jsonl</c>:
/// <c>{"step": 12, "time": 1763755515.123, "train/loss": 1.23, ...}</c>, with <c>time</c> in Unix seconds,
/// and one object per text sample to <c>samples.jsonl</c>: <c>{"step": 12, "tag": "...", "text": "..."}</c>.
/// NaN and infinities are written as the strings "NaN", "Infinity" and "-Infinity" (see <see cref="MetricJson"/>).
/// Each line is handed to the operating system as soon as it is written, so a killed process keeps
/// every finished line; <see cref="Flush"/> also forces the files to disk.
/// </summary>
public sealed class JsonlMetricSink : IMetricSink
{
    public const string MetricsFileName = "metrics.jsonl";
    public const string SamplesFileName = "samples.jsonl";

    private readonly FileStream _metrics;
    private readonly FileStream _samples;
    private readonly TimeProvider _clock;
    private readonly ArrayBufferWriter<byte> _line = new();
    private readonly Utf8JsonWriter _json;
    private bool _disposed;

    /// <param name="directory">Folder for both files; created if missing.</param>
    /// <param name="append">Keep the lines already in the files (resuming a run) instead of starting them afresh.</param>
    /// <param name="resumeFromStep">With <paramref name="append"/>: drop lines whose step is greater than this
    /// first, so a run resumed from the checkpoint at this step does not log those steps twice. The files are
    /// rewritten atomically (temporary file, then rename).</param>
    /// <param name="clock">Source of the <c>time</c> field; the system clock when null.</param>
    public JsonlMetricSink(string directory, bool append = false, long? resumeFromStep = null, TimeProvider? clock = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (resumeFromStep is not null && !append)
            throw new ArgumentException("resumeFromStep only makes sense with append: true; without it the files are started afresh.", nameof(resumeFromStep));
        if (resumeFromStep < 0)
            throw new ArgumentOutOfRangeException(nameof(resumeFromStep), resumeFromStep, "A step is never negative.");
        Directory.CreateDirectory(directory);
        MetricsPath = Path.Combine(directory, MetricsFileName);
        SamplesPath = Path.Combine(directory, SamplesFileName);
        if (append)
        {
            JsonlResume.Truncate(MetricsPath, resumeFromStep);
            JsonlResume.Truncate(SamplesPath, resumeFromStep);
        }
        _clock = clock ?? TimeProvider.System;
        _metrics = Open(MetricsPath, append);
        try
        {
            _samples = Open(SamplesPath, append);
        }
        catch
        {
            _metrics.Dispose();
            throw;
        }
        // Non-ASCII text (accents, CJK) stays readable; only what JSON requires is escaped.
        _json = new Utf8JsonWriter(_line, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public string MetricsPath { get; }

    public string SamplesPath { get; }

    public void Log(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(scalars);
        BeginLine(step);
        foreach (var (name, value) in scalars)
        {
            if (MetricNames.Reserved.Contains(name))
                throw new ArgumentException($"Metric name \"{name}\" collides with a JSONL record field.", nameof(scalars));
            MetricJson.WriteDouble(_json, name, value);
        }
        EndLine(_metrics);
    }

    public void LogText(long step, string tag, string text)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(tag);
        ArgumentNullException.ThrowIfNull(text);
        BeginLine(step);
        _json.WriteString("tag", tag);
        _json.WriteString("text", text);
        EndLine(_samples);
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        foreach (var file in new[] { _metrics, _samples })
        {
            try
            {
                file.Flush(flushToDisk: true);
            }
            catch (IOException e) when (DiskFullException.IsDiskFull(e))
            {
                throw new DiskFullException(file.Name, e);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _json.Dispose();
        _metrics.Dispose();
        _samples.Dispose();
    }

    // Unbuffered: each line goes to the operating system in one write, and a failed write leaves
    // nothing behind in a buffer that closing the file would try to write again.
    private static FileStream Open(string path, bool append) =>
        new(path, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 0);

    private void BeginLine(long step)
    {
        _line.ResetWrittenCount();
        _json.Reset(_line);
        _json.WriteStartObject();
        _json.WriteNumber("step", step);
        _json.WriteNumber("time", MetricJson.ToUnixSeconds(_clock.GetUtcNow()));
    }

    private void EndLine(FileStream file)
    {
        _json.WriteEndObject();
        _json.Flush();
        _line.Write("\n"u8);
        long before = file.Length;
        try
        {
            file.Write(_line.WrittenSpan);
        }
        catch (IOException e) when (DiskFullException.IsDiskFull(e))
        {
            // A full disk may have taken part of the line: cut it off, so the file keeps whole lines only.
            try
            {
                file.SetLength(before);
            }
            catch (IOException)
            {
                // the full disk is the error worth reporting
            }
            throw new DiskFullException(file.Name, e);
        }
    }
}
