using System.Text;

namespace RlhfSharp.Cli;

/// <summary>
/// Writes through to another writer with a prefix (the rank) at the start of every line, a whole
/// line at a time, so the lines of several ranks sharing a terminal do not mix.
/// </summary>
internal sealed class RankPrefixWriter(TextWriter inner, string prefix) : TextWriter
{
    private readonly StringBuilder _line = new();

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        _line.Append(value);
        if (value == '\n')
            EmitLine();
    }

    public override void Write(string? value)
    {
        foreach (var c in value ?? "")
            Write(c);
    }

    public override void Flush()
    {
        if (_line.Length > 0)
        {
            _line.Append('\n');
            EmitLine();
        }
        inner.Flush();
    }

    private void EmitLine()
    {
        inner.Write(prefix + _line.ToString());
        inner.Flush();
        _line.Clear();
    }
}
