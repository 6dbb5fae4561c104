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
    public PyStr ToPyStr()
    {
        var result = new PyStr(_text.ToString());
        if (_content.Count == 0) return result;
        var s = PyStr.Empty;
        int pos = 0;
        foreach (var (start, end) in _content)
        {
            s = PyStr.Concat(s, result.Substring(pos, start - pos));
            s = PyStr.Concat(s, new PyStr(_text.ToString(start, end - start), content: true));
            pos = end;
        }
        return PyStr.Concat(s, result.Substring(pos, result.Length - pos));
    }

    public string Text => _text.ToString();

    public IReadOnlyList<(int Start, int End)> ContentRanges => _content;
}

/// <summary>Variables visible at a point of the template: each for-loop iteration and macro call opens a child scope.</summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s.Parent)
            if (s._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;

    public Scope? Parent { get; } = parent;
}

/// <summary>The <c>loop</c> variable of a for loop.</summary>
internal sealed class LoopContext(IReadOnlyList<object?> items, int depth0)
{
    public int Index0 { get; set; }

    public object? Get(string name) => name switch
    {
        "index0" => (long)Index0,
        "index" => (long)Index0 + 1,
        "revindex0" => (long)(items.Count - Index0 - 1),
        "revindex" => (long)(items.Count - Index0),
        "first" => Index0 == 0,
        "last" => Index0 == items.Count - 1,
        "length" => (long)items.Count,
        "depth0" => (long)depth0,
        "depth" => (long)depth0 + 1,
        "previtem" => Index0 > 0 ? items[Index0 - 1] : new Undefined("there is no previous item"),
        "nextitem" => Index0 < items.Count - 1 ? items[Index0 + 1] : new Undefined("there is no next item"),
        "cycle" => new PyCallable("loop.cycle", (args, _) =>
            args.Count == 0 ? throw PyException.Type("no items for cycling given") : args[Index0 % args.Count]),
        _ => new Undefined($"'LoopContext' object has no attribute '{name}'"),
    };
}
