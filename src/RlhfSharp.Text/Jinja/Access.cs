namespace RlhfSharp.Text.Jinja;

/// <summary>
/// Attribute and item access as jinja2's sandbox does it: <c>a.b</c> tries the attribute (a
/// method of str, dict or list) and then the item; <c>a[b]</c> the item and then the attribute;
/// names starting with an underscore and the methods that would mutate a list or dict are refused.
/// </summary>
internal static class Access
{
    private static readonly HashSet<string> MutatingList = ["append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"];
    private static readonly HashSet<string> MutatingDict = ["pop", "popitem", "setdefault", "update", "clear"];

    public static object? GetAttr(object? obj, string name)
    {
        if (obj is Undefined u) throw u.Fail();
        if (name.StartsWith('_') || IsMutating(obj, name))
            return new Undefined($"access to attribute '{name}' of '{Py.TypeName(obj)}' object is unsafe.", JinjaErrorKind.Security);
        if (PyMethods.Get(obj, name) is { } method) return method;
        return obj switch
        {
            PyDict d when d.TryGet(new PyStr(name), out var v) => v,
            PyNamespace ns => ns.Attributes.TryGetValue(name, out var v) ? v : NoAttribute(obj, name),
            LoopContext loop => loop.Get(name),
            _ => NoAttribute(obj, name),
        };
    }

    public static object? GetItem(object? obj, object? key)
    {
        if (obj is Undefined u) throw u.Fail();
        switch (obj)
        {
            case PyDict d:
                if (d.TryGet(key, out var v)) return v;
                break;
            case PyList l when key is long or bool:
                long i = PyOps.AsLong(key);
                if (i < 0) i += l.Count;
                if (i >= 0 && i < l.Count) return l.Items[(int)i];
                break;
            case PyStr s when key is long or bool:
                long j = PyOps.AsLong(key);
                if (j < 0) j += s.CodePointLength;
                if (j >= 0 && j < s.CodePointLength) return s.CodePoints((int)j, 1);
                break;
        }
        if (key is PyStr name) return GetAttr(obj, name.Value);
        return new Undefined($"{TypeRepr(obj)} has no element {Py.Repr(key)}");
    }

    private static bool IsMutating(object? obj, string name) =>
        (obj is PyList { IsTuple: false } && MutatingList.Contains(name)) || (obj is PyDict && MutatingDict.Contains(name));

    private static Undefined NoAttribute(object? obj, string name) => new($"'{TypeRepr(obj)}' has no attribute '{name}'");

    /// <summary>jinja2's object_type_repr: "None", "dict object", "str object"...</summary>
    private static string TypeRepr(object? obj) => obj switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        _ => $"{Py.TypeName(obj)} object",
    };

    /// <summary>Python's <c>seq[start:stop:step]</c> on a str, list or tuple.</summary>
    public static object? Slice(object? obj, object? start, object? stop, object? step)
    {
        if (obj is Undefined u) throw u.Fail();
        long st = step is null ? 1 : Index(step);
        if (st == 0) throw PyException.Type("slice step cannot be zero");
        int n = obj switch
        {
            PyStr s => s.CodePointLength,
            PyList l => l.Count,
            _ => throw PyException.Type($"'{Py.TypeName(obj)}' object is not subscriptable"),
        };
        long lo, hi;
        if (st > 0)
        {
            lo = start is null ? 0 : Clamp(Index(start), n, 0, n);
            hi = stop is null ? n : Clamp(Index(stop), n, 0, n);
        }
        else
        {
            lo = start is null ? n - 1 : Clamp(Index(start), n, -1, n - 1);
            hi = stop is null ? -1 : Clamp(Index(stop), n, -1, n - 1);
        }
        var picks = new List<int>();
        for (long i = lo; st > 0 ? i < hi : i > hi; i += st) picks.Add((int)i);
        if (obj is PyList list) return new PyList([.. picks.Select(i => list.Items[i])], list.IsTuple);
        var str = (PyStr)obj!;
        if (st == 1) return picks.Count == 0 ? PyStr.Empty : str.CodePoints(picks[0], picks.Count);
        var w = new OutputWriter();
        foreach (int i in picks) w.Write(str.CodePoints(i, 1));
        return w.ToPyStr();
    }

    private static long Index(object? v) => v is long or bool ? PyOps.AsLong(v)
        : throw PyException.Type("slice indices must be integers or None");

    private static long Clamp(long i, int n, long min, long max)
    {
        if (i < 0) i += n;
        return Math.Clamp(i, min, max);
    }
}
