namespace RlhfSharp.Training.Data;

/// <summary>
/// A data file or one of its lines cannot be used. The message reads
/// <c>FILE: line N: field "F": problem</c>, where the problem says what was found and what would
/// be right; <see cref="Line"/> is 0 for problems with the whole file and <see cref="Field"/> is
/// null where no single field is at fault (invalid JSON, empty file).
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

    /// <summary>What kind of problem this is.</summary>
    public DataErrorKind Kind { get; }

    /// <summary>The file (or source name) being read.</summary>
    public string File { get; }

    /// <summary>The 1-based line, or 0 when the problem is with the whole file.</summary>
    public int Line { get; }

    /// <summary>The JSON field at fault (e.g. <c>completion</c>, <c>messages[2].role</c>), or null.</summary>
    public string? Field { get; }

    /// <summary>What was wrong and what would be right.</summary>
    public string Problem { get; }

    private static string Format(string file, int line, string? field, string problem)
    {
        var where = line > 0 ? $"{file}: line {line}: " : $"{file}: ";
        return field is null ? where + problem : $"{where}field \"{field}\": {problem}";
    }
}
