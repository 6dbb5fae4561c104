namespace RlhfSharp.Training.Data;

/// <summary>
/// A data file or one of its lines cannot be used. The message reads
/// <c>FILE: line N: field "F": problem</c>, where the problem says what was found and what would
/// be right; <see cref="Line"/> is 0 for problems with the whole file and <see cref="Field"/> is
/// null where no single field is at fault (invalid JSON, empty file). A Parquet row's error reads
/// <c>FILE: row group G, row R: column "C": problem</c> instead (see <see cref="AtRow"/>).
/// </summary>
public sealed class DataFormatException : Exception, IUserError
{
    public DataFormatException(DataErrorKind kind, string file, int line, string? field, string problem, Exception? inner = null)
        : base(Format(file, line, field, problem), inner)
    {
        Kind = kind;
        File = file;
        Line = line;
        Field = field;
        Problem = problem;
    }

    /// <summary>
    /// An error in a Parquet row: <paramref name="rowGroup"/> is the 0-based row group and
    /// <paramref name="row"/> the 0-based row of the file (the index a dataframe or HF dataset shows);
    /// <paramref name="rowGroup"/> alone (row null) for a problem with a whole row group.
    /// </summary>
    public static DataFormatException AtRow(DataErrorKind kind, string file, int rowGroup, long? row, string? column, string problem, Exception? inner = null)
    {
        var where = row is { } r ? $"row group {rowGroup}, row {r}" : $"row group {rowGroup}";
        var message = column is null ? $"{file}: {where}: {problem}" : $"{file}: {where}: column \"{column}\": {problem}";
        return new DataFormatException(kind, file, 0, column, problem, inner, message) { RowGroup = rowGroup, Row = row };
    }

    private DataFormatException(DataErrorKind kind, string file, int line, string? field, string problem, Exception? inner, string message)
        : base(message, inner)
    {
        Kind = kind;
        File = file;
        Line = line;
        Field = field;
        Problem = problem;
    }

    /// <summary>What kind of problem this is.</summary>
    public DataErrorKind Kind { get; }

    /// <summary>The file (or source name) being read.</summary>
    public string File { get; }

    /// <summary>The 1-based line, or 0 when the problem is with the whole file or in a Parquet file.</summary>
    public int Line { get; }

    /// <summary>The 0-based Parquet row group of the problem, or null for JSONL and whole-file problems.</summary>
    public int? RowGroup { get; private init; }

    /// <summary>The 0-based Parquet row (counted over the whole file), or null.</summary>
    public long? Row { get; private init; }

    /// <summary>The JSON field or Parquet column at fault (e.g. <c>completion</c>, <c>messages[2].role</c>), or null.</summary>
    public string? Field { get; }

    /// <summary>What was wrong and what would be right.</summary>
    public string Problem { get; }

    private static string Format(string file, int line, string? field, string problem)
    {
        var where = line > 0 ? $"{file}: line {line}: " : $"{file}: ";
        return field is null ? where + problem : $"{where}field \"{field}\": {problem}";
    }
}
