using System.Text;

namespace RlhfSharp.Cli;

/// <summary>Writes through to another writer with a prefix (the rank) at the start of every line.</summary>
internal sealed class RankPrefixWriter(TextWriter inner, string prefix) : TextWriter
{
    private bool _lineStart = true;

    public override Encoding Encoding => inner.Encoding;

    public override void Write(char value)
    {
        if (_lineStart)
            inner.Write(prefix);
        inner.Write(value);
        _lineStart = value == '\n';
    }

    public override void Write(string? value)
    {
        foreach (var c in value ?? "")
            Write(c);
    }

    public override void Flush() => inner.Flush();
}
