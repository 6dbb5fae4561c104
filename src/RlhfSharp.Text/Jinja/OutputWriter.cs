using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>The rendered text, with the ranges whose characters came from the conversation.</summary>
internal sealed class OutputWriter
{
    private readonly StringBuilder _text = new();
    private readonly List<(int Start, int End)> _content = [];

    public int Length => _text.Length;

    public void Write(PyStr s)
    {
        int offset = _text.Length;
        _text.Append(s.Value);
        foreach (var (start, length) in s.ContentRanges())
        {
            int a = offset + start, b = a + length;
            if (_content.Count > 0 && _content[^1].End == a) _content[^1] = (_content[^1].Start, b);
            else _content.Add((a, b));
        }
    }

    public void Write(string markup) => _text.Append(markup);

    /// <summary>What was written, as one string that keeps the provenance.</summary>
    public PyStr ToPyStr() => PyStr.FromRanges(_text.ToString(), _content);

    public string Text => _text.ToString();

    public IReadOnlyList<(int Start, int End)> ContentRanges => _content;
}
