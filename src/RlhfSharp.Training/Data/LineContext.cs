namespace RlhfSharp.Training.Data;

/// <summary>Where a JSONL line came from, for building errors that name it.</summary>
internal readonly record struct LineContext(string File, int Line)
{
    public DataFormatException Error(DataErrorKind kind, string? field, string problem)
        => new(kind, File, Line, field, problem);
}
