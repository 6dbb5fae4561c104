using System.Globalization;

namespace RlhfSharp.Training.Metrics;

/// <summary>
/// Writes a TensorBoard event file <c>events.out.tfevents.&lt;unix-seconds&gt;.&lt;hostname&gt;</c> in a folder
/// (point <c>tensorboard --logdir</c> at it or its parent). Scalars become <c>simple_value</c> summaries, which
/// the scalars dashboard reads; they are stored as float32, so values beyond ±3.4e38 show as infinite.
/// Text samples become string-tensor summaries for TensorBoard's Text tab. Each event is handed to the
/// operating system as soon as it is written; <see cref="Flush"/> also forces the file to disk.
/// </summary>
public sealed class TensorBoardSink : IMetricSink
{
    public const string FilePrefix = "events.out.tfevents.";

    private readonly FileStream _file;
    private readonly TimeProvider _clock;
    private bool _disposed;

    /// <param name="logDirectory">Folder for the event file; created if missing.</param>
    /// <param name="resumeFromStep">When resuming from the checkpoint at this step: the file's session-start
    /// marker carries step <c>resumeFromStep + 1</c>, so TensorBoard hides the points after this step that
    /// earlier event files in the folder hold (fresh runs mark step 0).</param>
    /// <param name="clock">Source of <c>wall_time</c> and the file name's time; the system clock when null.</param>
    /// <param name="hostName">Host name in the file name; <see cref="Environment.MachineName"/> when null.</param>
    public TensorBoardSink(string logDirectory, long? resumeFromStep = null, TimeProvider? clock = null, string? hostName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(logDirectory);
        if (resumeFromStep < 0)
            throw new ArgumentOutOfRangeException(nameof(resumeFromStep), resumeFromStep, "A step is never negative.");
        _clock = clock ?? TimeProvider.System;
        Directory.CreateDirectory(logDirectory);
        var now = _clock.GetUtcNow();
        (_file, FilePath) = CreateUnique(logDirectory, now.ToUnixTimeSeconds(), SafeHostName(hostName ?? Environment.MachineName));
        try
        {
            var wallTime = MetricJson.ToUnixSeconds(now);
            Write(TensorBoardEvents.FileVersionEvent(wallTime));
            // Every file starts a session so that the START of a resumed run is recognised as a restart
            // (TensorBoard's Python loader ignores the first START it sees in a run).
            Write(TensorBoardEvents.SessionStartEvent(wallTime, (resumeFromStep + 1) ?? 0));
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>The event file this sink writes.</summary>
    public string FilePath { get; }

    public void Log(long step, IReadOnlyDictionary<string, double> scalars)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(scalars);
        if (scalars.Count == 0)
            return;
        Write(TensorBoardEvents.ScalarsEvent(WallTime(), step, scalars));
    }

    public void LogText(long step, string tag, string text)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(tag);
        ArgumentNullException.ThrowIfNull(text);
        Write(TensorBoardEvents.TextEvent(WallTime(), step, tag, text));
    }

    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            _file.Flush(flushToDisk: true);
        }
        catch (IOException e) when (DiskFullException.IsDiskFull(e))
        {
            throw new DiskFullException(FilePath, e);
        }
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        _file.Dispose();
    }

    private double WallTime() => MetricJson.ToUnixSeconds(_clock.GetUtcNow());

    // The file is unbuffered and a record goes out in one write, so a failed write leaves nothing in
    // a buffer that closing the file would try again; on a full disk the partial record is cut off.
    private void Write(ProtoWriter evt)
    {
        long before = _file.Length;
        try
        {
            TfRecordWriter.Write(_file, evt.WrittenSpan);
        }
        catch (IOException e) when (DiskFullException.IsDiskFull(e))
        {
            try
            {
                _file.SetLength(before);
            }
            catch (IOException)
            {
                // the full disk is the error worth reporting
            }
            throw new DiskFullException(FilePath, e);
        }
    }

    // Two sinks started in the same second in one folder get ".1", ".2"… suffixes; TensorBoard reads
    // every file whose name contains "tfevents".
    private static (FileStream, string) CreateUnique(string directory, long unixSeconds, string host)
    {
        var baseName = FilePrefix + unixSeconds.ToString(CultureInfo.InvariantCulture) + "." + host;
        for (var n = 0; ; n++)
        {
            var path = Path.Combine(directory, n == 0 ? baseName : $"{baseName}.{n}");
            try
            {
                return (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, bufferSize: 0), path);
            }
            catch (IOException) when (File.Exists(path))
            {
                // taken: try the next suffix
            }
        }
    }

    private static string SafeHostName(string host)
    {
        var chars = host.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        return chars.Length == 0 ? "localhost" : new string(chars);
    }
}
