using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>The methods of str, dict and list that chat templates call, bound to their object.</summary>
internal static class PyMethods
{
    public static PyCallable? Get(object? obj, string name) => obj switch
    {
        PyStr s => StrMethod(s, name),
        PyDict d => DictMethod(d, name),
        PyList l => ListMethod(l, name),
        _ => null,
    };

    private static PyCallable Bind(string name, Func<CallArgs, object?> body) =>
        new(name, (args, kwargs) => body(new CallArgs(name, args, kwargs)));

    private static PyCallable? DictMethod(PyDict d, string name) => name switch
    {
        "items" => Bind(name, a => { a.Accept(); return new PyList([.. d.Map.Select(kv => (object?)new PyList([Key(kv.Key), kv.Value], isTuple: true))]); }),
        "keys" => Bind(name, a => { a.Accept(); return new PyList([.. d.Keys]); }),
        "values" => Bind(name, a => { a.Accept(); return new PyList([.. d.Map.Values]); }),
        "get" => Bind(name, a => { a.Accept("key", "default"); return d.TryGet(a.Required(0, "key"), out var v) ? v : a.Get(1, "default"); }),
        "copy" => Bind(name, a => { a.Accept(); var c = new PyDict(); foreach (var kv in d.Map) c.Map[kv.Key] = kv.Value; return c; }),
        _ => null,
    };

    private static object? Key(object k) => k is NoneKey ? null : k;

    private static PyCallable? ListMethod(PyList l, string name) => name switch
    {
        "index" => Bind(name, a =>
        {
            a.Accept("value");
            var x = a.Required(0, "value");
            for (int i = 0; i < l.Count; i++) if (PyOps.Eq(l.Items[i], x)) return (long)i;
            throw PyException.Type($"{Py.Repr(x)} is not in list");
        }),
        "count" => Bind(name, a => { a.Accept("value"); var x = a.Required(0, "value"); return (long)l.Items.Count(i => PyOps.Eq(i, x)); }),
        "copy" when !l.IsTuple => Bind(name, a => { a.Accept(); return new PyList(l.Items); }),
        _ => null,
    };

    /// <summary>Python's str.isspace for one character.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\x1c' and <= '\x1f';

    private static PyCallable? StrMethod(PyStr s, string name) => name switch
    {
        "startswith" or "endswith" => Bind(name, a => { a.Accept("prefix", "start", "end"); return StartsOrEnds(s, a, name == "startswith"); }),
        "strip" or "lstrip" or "rstrip" => Bind(name, a => { a.Accept("chars"); return Strip(s, a.OptionalStr(0, "chars")?.Value, name != "rstrip", name != "lstrip"); }),
        "split" or "rsplit" => Bind(name, a =>
        {
            a.Accept("sep", "maxsplit");
            return new PyList([.. Split(s, a.OptionalStr(0, "sep")?.Value, a.Int(1, "maxsplit", -1), name == "rsplit")]);
        }),
        "splitlines" => Bind(name, a => { a.Accept(); return new PyList([.. SplitLines(s)]); }),
        "replace" => Bind(name, a =>
        {
            a.Accept("old", "new", "count");
            return Replace(s, Str(a.Required(0, "old"), name), Str(a.Required(1, "new"), name), a.Int(2, "count", -1));
        }),
        "upper" => Bind(name, a => { a.Accept(); return s.WithValue(s.Value.ToUpperInvariant()); }),
        "lower" => Bind(name, a => { a.Accept(); return s.WithValue(s.Value.ToLowerInvariant()); }),
        "title" => Bind(name, a => { a.Accept(); return s.WithValue(Title(s.Value)); }),
        "capitalize" => Bind(name, a => { a.Accept(); return s.WithValue(Capitalize(s.Value)); }),
        "find" or "rfind" or "index" or "rindex" => Bind(name, a =>
        {
            a.Accept("sub", "start", "end");
            var (from, to) = Range(s, a);
            string sub = Str(a.Required(0, "sub"), name).Value;
            int found = to < from || sub.Length > to - from ? -1 : name.StartsWith('r')
                ? s.Value.LastIndexOf(sub, to - 1 < 0 ? 0 : to - 1, to - from, StringComparison.Ordinal)
                : s.Value.IndexOf(sub, from, to - from, StringComparison.Ordinal);
            if (sub.Length == 0 && to >= from) found = name.StartsWith('r') ? to : from;
            if (found < 0 && name.EndsWith("index", StringComparison.Ordinal)) throw PyException.Type("substring not found");
            return found < 0 ? -1L : s.CodePointIndex(found);
        }),
        "count" => Bind(name, a =>
        {
            a.Accept("sub", "start", "end");
            var (from, to) = Range(s, a);
            string sub = Str(a.Required(0, "sub"), name).Value;
            if (sub.Length == 0) return (long)Math.Max(0, s.CodePointIndex(to) - s.CodePointIndex(from) + 1);
            long n = 0;
            for (int i = from; i + sub.Length <= to;)
            {
                int k = s.Value.IndexOf(sub, i, to - i, StringComparison.Ordinal);
                if (k < 0) break;
                n++;
                i = k + sub.Length;
            }
            return n;
        }),
        "join" => Bind(name, a =>
        {
            a.Accept("iterable");
            var parts = Py.Iterate(a.Required(0, "iterable")).Select(x => x as PyStr
                ?? throw PyException.Type($"sequence item: expected str instance, {Py.TypeName(x)} found")).ToList();
            return PyStr.Join(s, parts);
        }),
        "format" => Bind(name, a => StrFormat.Format(s, a)),
        "center" or "ljust" or "rjust" => Bind(name, a =>
        {
            a.Accept("width", "fillchar");
            int width = (int)Math.Min(a.Int(0, "width", 0), 1_000_000), pad = width - s.CodePointLength;
            string fill = a.OptionalStr(1, "fillchar")?.Value ?? " ";
            if (fill.Length != 1) throw PyException.Type("The fill character must be exactly one character long");
            if (pad <= 0) return s;
            int left = name == "ljust" ? 0 : name == "rjust" ? pad : pad / 2 + (pad & width & 1);
            return PyStr.Concat(PyStr.Concat(new PyStr(new string(fill[0], left)), s), new PyStr(new string(fill[0], pad - left)));
        }),
        "isdigit" or "isnumeric" or "isdecimal" => Bind(name, a => { a.Accept(); return s.Length > 0 && s.Value.All(char.IsDigit); }),
        "isalpha" => Bind(name, a => { a.Accept(); return s.Length > 0 && s.Value.All(char.IsLetter); }),
        "isalnum" => Bind(name, a => { a.Accept(); return s.Length > 0 && s.Value.All(char.IsLetterOrDigit); }),
        "isspace" => Bind(name, a => { a.Accept(); return s.Length > 0 && s.Value.All(IsSpace); }),
        "isupper" => Bind(name, a => { a.Accept(); return s.Value.Any(char.IsLetter) && s.Value == s.Value.ToUpperInvariant(); }),
        "islower" => Bind(name, a => { a.Accept(); return s.Value.Any(char.IsLetter) && s.Value == s.Value.ToLowerInvariant(); }),
        _ => null,
    };

    private static PyStr Str(object? v, string fn) => v as PyStr ?? throw PyException.Type($"{fn}() argument must be str, not {Py.TypeName(v)}");

    // start/end arguments count code points; the range returned is in UTF-16 offsets.
    private static (int From, int To) Range(PyStr s, CallArgs a)
    {
        int n = s.CodePointLength;
        long from = a.Get(1, "start") is { } st ? PyOps.AsLong(st) : 0, to = a.Get(2, "end") is { } en ? PyOps.AsLong(en) : n;
        if (from < 0) from = Math.Max(0, from + n);
        if (to < 0) to = Math.Max(0, to + n);
        return (s.Utf16Offset((int)Math.Min(from, n)), s.Utf16Offset((int)Math.Min(to, n)));
    }

    private static bool StartsOrEnds(PyStr s, CallArgs a, bool starts)
    {
        var (from, to) = Range(s, a);
        var prefix = a.Required(0, "prefix");
        IEnumerable<object?> options = prefix is PyList { IsTuple: true } t ? t.Items : [prefix];
        foreach (var o in options)
        {
            string p = o is PyStr ps ? ps.Value
                : throw PyException.Type($"{(starts ? "startswith" : "endswith")} first arg must be str or a tuple of str, not {Py.TypeName(o)}");
            if (to - from < p.Length) continue;
            if (string.CompareOrdinal(s.Value, starts ? from : to - p.Length, p, 0, p.Length) == 0) return true;
        }
        return false;
    }

    public static PyStr Strip(PyStr s, string? chars, bool left, bool right)
    {
        bool Strippable(char c) => chars is null ? IsSpace(c) : chars.Contains(c);
        int start = 0, end = s.Length;
        if (left) while (start < end && Strippable(s.Value[start])) start++;
        if (right) while (end > start && Strippable(s.Value[end - 1])) end--;
        return s.Substring(start, end - start);
    }

    private static List<object?> Split(PyStr s, string? sep, long maxsplit, bool fromRight)
    {
        if (sep is { Length: 0 }) throw PyException.Type("empty separator");
        var pieces = new List<(int Start, int End)>();
        string v = s.Value;
        if (sep is null)
        {
            // Runs of whitespace separate; none at the ends.
            var words = new List<(int, int)>();
            for (int i = 0; i < v.Length;)
            {
                while (i < v.Length && IsSpace(v[i])) i++;
                if (i >= v.Length) break;
                int j = i;
                while (j < v.Length && !IsSpace(v[j])) j++;
                words.Add((i, j));
                i = j;
            }
            if (maxsplit < 0 || words.Count <= maxsplit + 1) pieces = words;
            else if (!fromRight)
            {
                pieces.AddRange(words.Take((int)maxsplit));
                pieces.Add((words[(int)maxsplit].Item1, v.Length));
            }
            else
            {
                int keep = (int)maxsplit;
                pieces.Add((0, words[^(keep + 1)].Item2));
                pieces.AddRange(words.Skip(words.Count - keep));
            }
        }
        else if (!fromRight)
        {
            int pos = 0;
            for (long n = 0; maxsplit < 0 || n < maxsplit; n++)
            {
                int k = v.IndexOf(sep, pos, StringComparison.Ordinal);
                if (k < 0) break;
                pieces.Add((pos, k));
                pos = k + sep.Length;
            }
            pieces.Add((pos, v.Length));
        }
        else
        {
            int end = v.Length;
            for (long n = 0; maxsplit < 0 || n < maxsplit; n++)
            {
                int k = end - sep.Length < 0 ? -1 : v.LastIndexOf(sep, end - 1, end, StringComparison.Ordinal);
                if (k < 0 || k + sep.Length > end) break;
                pieces.Insert(0, (k + sep.Length, end));
                end = k;
            }
            pieces.Insert(0, (0, end));
        }
        return [.. pieces.Select(p => (object?)s.Substring(p.Start, p.End - p.Start))];
    }

    private static List<object?> SplitLines(PyStr s)
    {
        var lines = new List<object?>();
        string v = s.Value;
        int start = 0;
        for (int i = 0; i < v.Length; i++)
        {
            char c = v[i];
            if (c is not ('\n' or '\r' or '\v' or '\f' or '\x1c' or '\x1d' or '\x1e' or '\x85' or '\u2028' or '\u2029')) continue;
            lines.Add(s.Substring(start, i - start));
            if (c == '\r' && i + 1 < v.Length && v[i + 1] == '\n') i++;
            start = i + 1;
        }
        if (start < v.Length) lines.Add(s.Substring(start, v.Length - start));
        return lines;
    }

    public static PyStr Replace(PyStr s, PyStr old, PyStr replacement, long count)
    {
        var w = new OutputWriter();
        string v = s.Value;
        int pos = 0;
        long n = 0;
        if (old.Length == 0)
        {
            // Python inserts the replacement before every code point and at the end.
            int points = s.CodePointLength;
            for (int i = 0; i <= points; i++)
            {
                if (count >= 0 && n >= count)
                {
                    w.Write(s.Substring(s.Utf16Offset(i), v.Length - s.Utf16Offset(i)));
                    return w.ToPyStr();
                }
                w.Write(replacement);
                n++;
                if (i < points) w.Write(s.CodePoints(i, 1));
            }
            return w.ToPyStr();
        }
        while (count < 0 || n < count)
        {
            int k = v.IndexOf(old.Value, pos, StringComparison.Ordinal);
            if (k < 0) break;
            w.Write(s.Substring(pos, k - pos));
            w.Write(replacement);
            pos = k + old.Length;
            n++;
        }
        w.Write(s.Substring(pos, v.Length - pos));
        return w.ToPyStr();
    }

    /// <summary>Python's str.title: a letter after a non-letter goes upper case, other letters lower case.</summary>
    public static string Title(string v)
    {
        var sb = new StringBuilder(v.Length);
        bool previousCased = false;
        foreach (char c in v)
        {
            sb.Append(previousCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousCased = char.IsLetter(c);
        }
        return sb.ToString();
    }

    public static string Capitalize(string v) => v.Length == 0 ? v : char.ToUpperInvariant(v[0]) + v[1..].ToLowerInvariant();
}
