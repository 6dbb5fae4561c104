namespace RlhfSharp.Training.Data;

/// <summary>
/// What a loader read: lines seen, examples kept, and (with <see cref="DataLoadOptions.SkipBadLines"/>)
/// the lines skipped, counted by <see cref="DataErrorKind"/>, with the first few errors kept as examples.
/// </summary>
public sealed class LoadReport
{
    private readonly Dictionary<DataErrorKind, int> _skippedByKind = [];
    private readonly List<DataFormatException> _firstErrors = [];
    private readonly int _maxErrors;

    internal LoadReport(string source, int maxErrors)
    {
        Source = source;
        _maxErrors = maxErrors;
    }

    /// <summary>The file (or source name) read.</summary>
    public string Source { get; }

    /// <summary>Lines read, blank lines included.</summary>
    public int Lines { get; internal set; }

    /// <summary>Examples loaded.</summary>
    public int Loaded { get; internal set; }

    /// <summary>Bad lines skipped.</summary>
    public int Skipped { get; private set; }

    /// <summary>Skipped lines per kind of problem.</summary>
    public IReadOnlyDictionary<DataErrorKind, int> SkippedByKind => _skippedByKind;

    /// <summary>The first skipped lines' errors, in file order (at most <see cref="DataLoadOptions.MaxReportedErrors"/>).</summary>
    public IReadOnlyList<DataFormatException> FirstErrors => _firstErrors;

    internal void AddSkipped(DataFormatException error)
    {
        Skipped++;
        _skippedByKind[error.Kind] = _skippedByKind.GetValueOrDefault(error.Kind) + 1;
        if (_firstErrors.Count < _maxErrors) _firstErrors.Add(error);
    }

    /// <summary>A one-paragraph summary: counts, reasons and the first errors.</summary>
    public override string ToString()
    {
        var text = $"{Source}: {Loaded} examples from {Lines} lines, {Skipped} skipped";
        if (Skipped == 0) return text;
        var reasons = string.Join(", ", _skippedByKind.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}"));
        var first = string.Join(Environment.NewLine, _firstErrors.Select(e => "  " + e.Message));
        return $"{text} ({reasons}); first:{Environment.NewLine}{first}";
    }
}
