namespace RlhfSharp.Training.Data;

/// <summary>How the JSONL loaders treat bad lines.</summary>
public sealed record DataLoadOptions
{
    /// <summary>The defaults: the first bad line throws.</summary>
    public static DataLoadOptions Default { get; } = new();

    /// <summary>
    /// Skip bad lines and count them in <see cref="LoadReport"/> instead of throwing. File-level
    /// problems (missing file, empty file, no usable line at all) still throw.
    /// </summary>
    public bool SkipBadLines { get; init; }

    /// <summary>How many skipped lines' errors <see cref="LoadReport.FirstErrors"/> keeps.</summary>
    public int MaxReportedErrors { get; init; } = 5;
}
