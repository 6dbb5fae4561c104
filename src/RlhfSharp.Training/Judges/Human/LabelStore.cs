using System.Text;
using RlhfSharp.Models.IO;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>
/// The durable record of a human labelling session: the preference file and its side file of
/// ties, both-bad and skips (see <see cref="LabelLine"/>). Every label is appended as one line and
/// flushed to disk (fsync) before <see cref="TryAppend"/> returns, so a label the page was told is
/// saved survives a killed process or a power cut. Opening an existing session reads it back:
/// a final line cut off mid-write is removed from the file and reported in <see cref="Repairs"/>,
/// a final line that only lacks its newline gets it. <see cref="Undo"/> removes a labeller's latest
/// label by rewriting that one file atomically (temporary file, fsync, rename, fsync of the
/// folder), so the preference file never holds an undone pair for the trainers to read. All
/// members are safe to call from many threads; appends and rewrites are serialised, so lines
/// never interleave. A lock file beside the output (<c>.NAME.lock</c>, held with an exclusive lock
/// the system drops when the process ends, however it ends) keeps a second process from writing
/// the same session.
/// </summary>
public sealed class LabelStore : IDisposable
{
    private readonly object _gate = new();
    private readonly FileState[] _files;
    private readonly Dictionary<(string Item, string Labeller), LabelRecord> _byKey = [];
    private readonly List<string> _repairs = [];
    private long _nextSeq = 1;
    private FileStream? _lock;
    private bool _disposed;

    private LabelStore(string preferencePath)
    {
        PreferencePath = Path.GetFullPath(preferencePath);
        NoPreferencePath = LabelFiles.NoPreferencePath(PreferencePath);
        _files = [new FileState(PreferencePath), new FileState(NoPreferencePath)];
    }

    /// <summary>The preference file (<c>--out</c>).</summary>
    public string PreferencePath { get; }

    /// <summary>The side file of ties, both-bad and skips.</summary>
    public string NoPreferencePath { get; }

    /// <summary>What opening the session repaired: final lines cut off by a crash, named by file and line.</summary>
    public IReadOnlyList<string> Repairs => _repairs;

    /// <summary>Opens (or starts) the session whose preference file is <paramref name="preferencePath"/>.</summary>
    public static LabelStore Open(string preferencePath)
    {
        ArgumentNullException.ThrowIfNull(preferencePath);
        var store = new LabelStore(preferencePath);
        Directory.CreateDirectory(Path.GetDirectoryName(store.PreferencePath)!);
        store._lock = Lock(store.PreferencePath);
        try
        {
            store.Load();
        }
        catch
        {
            store.Dispose();
            throw;
        }
        return store;
    }

    private static FileStream Lock(string preferencePath)
    {
        var path = Path.Combine(Path.GetDirectoryName(preferencePath)!, $".{Path.GetFileName(preferencePath)}.lock");
        try
        {
            return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (IOException e)
        {
            throw new TrainingSetupException(
                $"{preferencePath} is being written by another labelling session ({path} is locked: {e.Message}); stop that one, or give this one another --out");
        }
    }

    private void Load()
    {
        var seen = new Dictionary<(string, string), (string File, int Line)>();
        foreach (var kind in new[] { LabelFileKind.Preference, LabelFileKind.NoPreference })
        {
            var file = _files[(int)kind];
            if (!File.Exists(file.Path))
                continue;
            var content = LabelFiles.ReadFile(file.Path, kind);
            foreach (var line in content.Lines)
            {
                LabelFiles.CheckUnique(seen, line.Record, file.Path, line.Number);
                file.Entries.Add(new Entry(line.Record, line.Raw));
                _byKey[(line.Record.ItemId, line.Record.Labeller)] = line.Record;
                _nextSeq = Math.Max(_nextSeq, line.Record.Seq + 1);
            }
            if (content.Torn is { } torn)
            {
                Repair(file.Path, torn);
                _repairs.Add(torn.Describe(file.Path));
            }
        }
    }

    // A torn final line is cut off; a whole one without its newline gets it. Both are flushed to disk.
    private static void Repair(string path, LabelFiles.TornTail torn)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        if (torn.Complete)
        {
            fs.Seek(0, SeekOrigin.End);
            fs.WriteByte((byte)'\n');
        }
        else
        {
            fs.SetLength(torn.Offset);
        }
        fs.Flush(flushToDisk: true);
    }

    /// <summary>Every label in the session, in the order given.</summary>
    public IReadOnlyList<LabelRecord> Records()
    {
        lock (_gate)
            return [.. _files.SelectMany(f => f.Entries).Select(e => e.Record).OrderBy(r => r.Seq)];
    }

    /// <summary>Whether <paramref name="labeller"/> has labelled the pair <paramref name="itemId"/>.</summary>
    public bool Contains(string itemId, string labeller)
    {
        lock (_gate)
            return _byKey.ContainsKey((itemId, labeller));
    }

    /// <summary>
    /// Appends the label and flushes it to disk; false (and nothing written) when this labeller has
    /// already labelled this pair, which is how a label re-sent after a lost answer is recognised.
    /// </summary>
    public bool TryAppend(PairItem item, Submission submission, DateTimeOffset now, out LabelRecord record)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(submission);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_byKey.TryGetValue((item.Id, submission.Labeller), out record!))
                return false;
            var (json, kind) = LabelLine.Format(item, submission, _nextSeq, now);
            var file = _files[(int)kind];
            file.Append(Encoding.UTF8.GetBytes(json + "\n"));
            var context = new Data.LineContext(file.Path, 0);
            using (var doc = System.Text.Json.JsonDocument.Parse(json))
                record = LabelLine.Parse(doc.RootElement, context, kind);
            file.Entries.Add(new Entry(record, json));
            _byKey[(item.Id, submission.Labeller)] = record;
            _nextSeq++;
            return true;
        }
    }

    /// <summary>Removes <paramref name="labeller"/>'s latest label from its file (an atomic rewrite); null when they have none.</summary>
    public LabelRecord? Undo(string labeller)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            FileState? file = null;
            int index = -1;
            foreach (var f in _files)
            {
                for (int i = 0; i < f.Entries.Count; i++)
                {
                    if (f.Entries[i].Record.Labeller == labeller && (file is null || f.Entries[i].Record.Seq > file.Entries[index].Record.Seq))
                        (file, index) = (f, i);
                }
            }
            if (file is null)
                return null;
            var record = file.Entries[index].Record;
            var kept = file.Entries.Where((_, i) => i != index).ToList();
            file.Rewrite(kept);
            _byKey.Remove((record.ItemId, record.Labeller));
            return record;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (var f in _files)
                f.Close();
            _lock?.Dispose();
            _lock = null;
        }
    }

    private sealed record Entry(LabelRecord Record, string Raw);

    private sealed class FileState(string path)
    {
        private FileStream? _stream;

        public string Path { get; } = path;

        public List<Entry> Entries { get; private set; } = [];

        public void Append(byte[] bytes)
        {
            if (_stream is null)
            {
                bool created = !File.Exists(Path);
                _stream = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read, bufferSize: 0);
                if (created)
                    AtomicFile.SyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
            }
            long end = _stream.Seek(0, SeekOrigin.End);
            try
            {
                _stream.Write(bytes);
                _stream.Flush(flushToDisk: true);
            }
            catch
            {
                // A failed write (disk full) must not leave half a line for the next label to follow.
                try
                {
                    _stream.SetLength(end);
                    _stream.Flush(flushToDisk: true);
                }
                catch (IOException)
                {
                    // the write's own error is the one to report; the next open repairs a torn tail
                }
                throw;
            }
        }

        public void Rewrite(List<Entry> kept)
        {
            Close();
            AtomicFile.WriteDurable(Path, s =>
            {
                foreach (var e in kept)
                    s.Write(Encoding.UTF8.GetBytes(e.Raw + "\n"));
            });
            Entries = kept;
        }

        public void Close()
        {
            _stream?.Dispose();
            _stream = null;
        }
    }
}
