namespace RlhfSharp.Text.Jinja;

/// <summary>
/// A Python str that remembers which of its characters came from the conversation (content) as
/// opposed to the template's literals (markup). Operations that move characters around keep the
/// ranges (concatenation, slicing, strip, split, join); others mark the whole result as content
/// when any input was content (<see cref="Derived"/>).
/// </summary>
internal sealed class PyStr : IEquatable<PyStr>
{
    public static readonly PyStr Empty = new("");

    /// <summary>Sorted, disjoint, non-adjacent [start, end) pairs; empty for pure markup.</summary>
    private readonly int[] _content;

    public PyStr(string value, bool content = false)
    {
        Value = value;
        _content = content && value.Length > 0 ? [0, value.Length] : [];
    }

    private PyStr(string value, int[] content)
    {
        Value = value;
        _content = content;
    }

    public string Value { get; }

    /// <summary>The length in UTF-16 code units (the offsets spans use).</summary>
    public int Length => Value.Length;

    private int[]? _codePointOffsets;

    // For strings with surrogate pairs: the UTF-16 offset of each code point, and the length at the end.
    private int[]? Offsets
    {
        get
        {
            if (_codePointOffsets is not null) return _codePointOffsets.Length == 0 ? null : _codePointOffsets;
            if (!Value.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF'))
            {
                _codePointOffsets = [];
                return null;
            }
            var offsets = new List<int>(Value.Length + 1);
            for (int i = 0; i < Value.Length; i++)
            {
                offsets.Add(i);
                if (char.IsHighSurrogate(Value[i]) && i + 1 < Value.Length && char.IsLowSurrogate(Value[i + 1])) i++;
            }
            offsets.Add(Value.Length);
            _codePointOffsets = [.. offsets];
            return _codePointOffsets;
        }
    }

    /// <summary>The length in code points, as Python counts a str.</summary>
    public int CodePointLength => Offsets is { } o ? o.Length - 1 : Value.Length;

    /// <summary>The UTF-16 offset of code point <paramref name="index"/> (0..CodePointLength).</summary>
    public int Utf16Offset(int index) => Offsets is { } o ? o[index] : index;

    /// <summary>The code point index of UTF-16 offset <paramref name="offset"/> (a code point boundary).</summary>
    public int CodePointIndex(int offset)
    {
        if (Offsets is not { } o) return offset;
        int i = Array.BinarySearch(o, offset);
        return i >= 0 ? i : ~i;
    }

    /// <summary>Code points [start, start + count) as a str, keeping provenance.</summary>
    public PyStr CodePoints(int start, int count)
    {
        int from = Utf16Offset(start);
        return Substring(from, Utf16Offset(start + count) - from);
    }

    public bool HasContent => _content.Length > 0;

    /// <summary>The content ranges as (start, length).</summary>
    public IEnumerable<(int Start, int Length)> ContentRanges()
    {
        for (int i = 0; i < _content.Length; i += 2) yield return (_content[i], _content[i + 1] - _content[i]);
    }

    /// <summary>A string computed from inputs: all content when any input has content.</summary>
    public static PyStr Derived(string value, params ReadOnlySpan<PyStr?> inputs)
    {
        foreach (var s in inputs) if (s is { HasContent: true }) return new PyStr(value, content: true);
        return new PyStr(value);
    }

    public static PyStr Concat(PyStr a, PyStr b)
    {
        if (b.Length == 0) return a;
        if (a.Length == 0) return b;
        var ranges = new List<int>(a._content);
        foreach (var (start, length) in b.ContentRanges()) Add(ranges, a.Length + start, a.Length + start + length);
        return new PyStr(a.Value + b.Value, [.. ranges]);
    }

    public static PyStr Join(PyStr separator, IReadOnlyList<PyStr> parts)
    {
        var w = new OutputWriter();
        for (int i = 0; i < parts.Count; i++)
        {
            if (i > 0) w.Write(separator);
            w.Write(parts[i]);
        }
        return w.ToPyStr();
    }

    /// <summary>A string whose content ranges are already known ([start, end) pairs, sorted and disjoint).</summary>
    internal static PyStr FromRanges(string value, IReadOnlyList<(int Start, int End)> content)
    {
        var ranges = new List<int>(content.Count * 2);
        foreach (var (start, end) in content) Add(ranges, start, end);
        return new PyStr(value, [.. ranges]);
    }

    public PyStr Substring(int start, int length)
    {
        if (start == 0 && length == Length) return this;
        var ranges = new List<int>();
        int end = start + length;
        for (int i = 0; i < _content.Length; i += 2)
        {
            int s = Math.Max(_content[i], start), e = Math.Min(_content[i + 1], end);
            if (e > s) Add(ranges, s - start, e - start);
        }
        return new PyStr(Value.Substring(start, length), [.. ranges]);
    }

    /// <summary>The same text with each character's provenance unchanged (case mapping that keeps the length).</summary>
    public PyStr WithValue(string value) => value.Length == Length ? new PyStr(value, _content) : Derived(value, this);

    private static void Add(List<int> ranges, int start, int end)
    {
        if (end <= start) return;
        if (ranges.Count > 0 && ranges[^1] == start) ranges[^1] = end;
        else
        {
            ranges.Add(start);
            ranges.Add(end);
        }
    }

    public bool Equals(PyStr? other) => other is not null && other.Value == Value;

    public override bool Equals(object? obj) => obj is PyStr s && Equals(s);

    public override int GetHashCode() => Value.GetHashCode(StringComparison.Ordinal);

    public override string ToString() => Value;
}
