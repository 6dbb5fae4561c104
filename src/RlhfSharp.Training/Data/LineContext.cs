namespace RlhfSharp.Training.Data;

/// <summary>
/// Where a record came from, for building errors that name it: a JSONL line, or a Parquet row
/// (<see cref="RowGroup"/> set, <see cref="Line"/> its 1-based row number in the file).
/// </summary>
internal readonly record struct LineContext(string File, int Line)
{
    /// <summary>The 0-based Parquet row group, or null for a JSONL line.</summary>
    public int? RowGroup { get; init; }

    public DataFormatException Error(DataErrorKind kind, string? field, string problem)
        => RowGroup is { } group
            ? DataFormatException.AtRow(kind, File, group, Line - 1L, field, problem)
            : new(kind, File, Line, field, problem);
}
