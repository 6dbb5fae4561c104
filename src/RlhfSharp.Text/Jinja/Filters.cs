using System.Globalization;
using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>jinja2's built-in filters that chat templates use, and Hugging Face's <c>tojson</c>.</summary>
internal static partial class Filters
{
    private delegate object? Filter(object? value, CallArgs a);

    private static readonly Dictionary<string, Filter> All = new(StringComparer.Ordinal)
    {
        ["trim"] = (v, a) => { a.Accept("chars"); return PyMethods.Strip(Py.Str(v), a.OptionalStr(0, "chars")?.Value, true, true); },
        ["tojson"] = ToJson,
        ["length"] = (v, a) => { a.Accept(); return Py.Len(v); },
        ["count"] = (v, a) => { a.Accept(); return Py.Len(v); },
        ["upper"] = (v, a) => { a.Accept(); var s = Py.Str(v); return s.WithValue(s.Value.ToUpperInvariant()); },
        ["lower"] = (v, a) => { a.Accept(); var s = Py.Str(v); return s.WithValue(s.Value.ToLowerInvariant()); },
        ["capitalize"] = (v, a) => { a.Accept(); var s = Py.Str(v); return s.WithValue(PyMethods.Capitalize(s.Value)); },
        ["title"] = (v, a) => { a.Accept(); var s = Py.Str(v); return s.WithValue(Title(s.Value)); },
        ["default"] = Default,
        ["d"] = Default,
        ["join"] = Join,
        ["items"] = (v, a) =>
        {
            a.Accept();
            return v switch
            {
                Undefined => PyList.EmptyList,
                PyDict d => PyMethods.Get(d, "items")!.Invoke([], []),
                _ => throw PyException.Type($"Can only get item pairs from a mapping, not {Py.TypeName(v)}."),
            };
        },
        ["list"] = (v, a) => { a.Accept(); return new PyList(Py.Iterate(v)); },
        ["first"] = (v, a) => { a.Accept(); var l = Py.Iterate(v); return l.Count > 0 ? l[0] : new Undefined("No first item, sequence was empty."); },
        ["last"] = (v, a) => { a.Accept(); var l = Py.Iterate(v); return l.Count > 0 ? l[^1] : new Undefined("No last item, sequence was empty."); },
        ["string"] = (v, a) => { a.Accept(); return Py.Str(v); },
        ["safe"] = (v, a) => { a.Accept(); return v; },
        ["int"] = ToInt,
        ["float"] = ToFloat,
        ["abs"] = (v, a) =>
        {
            a.Accept();
            return v switch
            {
                long l => (object)Math.Abs(l),
                double d => Math.Abs(d),
                bool b => (object)(b ? 1L : 0L),
                _ => throw PyException.Type($"bad operand type for abs(): '{Py.TypeName(v)}'"),
            };
        },
        ["round"] = Round,
        ["replace"] = (v, a) =>
        {
            a.Accept("old", "new", "count");
            var s = Py.Str(v);
            long count = a.Get(2, "count") is null ? -1 : a.Int(2, "count", -1);
            return PyMethods.Replace(s, Py.Str(a.Required(0, "old")), Py.Str(a.Required(1, "new")), count);
        },
        ["indent"] = Indent,
        ["reverse"] = (v, a) =>
        {
            a.Accept();
            if (v is PyStr s) return Access.Slice(s, null, null, -1L);
            return new PyList([.. Py.Iterate(v).Reverse()]);
        },
        ["unique"] = Unique,
        ["sort"] = Sort,
        ["batch"] = Batch,
        ["sum"] = (v, a) =>
        {
            a.Accept("attribute", "start");
            var attr = a.Get(0, "attribute");
            object? total = a.Get(1, "start", 0L);
            foreach (var x in Py.Iterate(v)) total = PyOps.Binary("+", total, attr is null ? x : Attribute(x, attr));
            return total;
        },
        ["min"] = (v, a) => MinMax(v, a, min: true),
        ["max"] = (v, a) => MinMax(v, a, min: false),
        ["wordcount"] = (v, a) => { a.Accept(); return (long)Py.Str(v).Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length; },
        ["center"] = (v, a) =>
        {
            a.Accept("width");
            string s = Py.Str(v).Value;
            int width = (int)a.Int(0, "width", 80), pad = width - Py.Str(v).CodePointLength;
            if (pad <= 0) return new PyStr(s);
            int left = pad / 2 + (pad & width & 1);
            return PyStr.Derived(new string(' ', left) + s + new string(' ', pad - left), Py.Str(v));
        },
        ["escape"] = Escape,
        ["e"] = Escape,
    };

    public static bool Exists(string name) => All.ContainsKey(name) || MoreExists(name);

    public static object? Apply(string name, object? value, CallArgs args)
    {
        if (All.TryGetValue(name, out var f)) return f(value, args);
        return ApplyMore(name, value, args);
    }

    private static object? Escape(object? v, CallArgs a)
    {
        a.Accept();
        var s = Py.Str(v);
        string e = s.Value.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal)
            .Replace(">", "&gt;", StringComparison.Ordinal).Replace("\"", "&#34;", StringComparison.Ordinal).Replace("'", "&#39;", StringComparison.Ordinal);
        return PyStr.Derived(e, s);
    }

    /// <summary>Hugging Face's override: <c>json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=sort_keys)</c>.</summary>
    private static object? ToJson(object? v, CallArgs a)
    {
        a.Accept("ensure_ascii", "indent", "separators", "sort_keys");
        bool ascii = a.Bool(0, "ensure_ascii", false);
        string? indent = a.Get(1, "indent") switch
        {
            null => null,
            long n => new string(' ', (int)Math.Max(0, n)),
            PyStr s => s.Value,
            var other => throw PyException.Type($"tojson: indent must be an integer or a string, not {Py.TypeName(other)}"),
        };
        string itemSep = indent is null ? ", " : ",", keySep = ": ";
        if (a.Get(2, "separators") is { } seps)
        {
            var pair = Py.Iterate(seps);
            if (pair.Count != 2 || pair[0] is not PyStr i || pair[1] is not PyStr k)
                throw PyException.Type("tojson: separators must be a pair of strings (item separator, key separator)");
            (itemSep, keySep) = (i.Value, k.Value);
        }
        string json = PyJson.Dumps(v, ascii, indent, itemSep, keySep, a.Bool(3, "sort_keys", false));
        return PyStr.Derived(json, Py.HasContent(v) ? new PyStr("x", true) : null);
    }

    private static object? Default(object? v, CallArgs a)
    {
        a.Accept("default_value", "boolean");
        bool boolean = a.Bool(1, "boolean", false);
        return v is Undefined || (boolean && !Py.Truthy(v)) ? a.Get(0, "default_value", PyStr.Empty) : v;
    }

    private static object? Join(object? v, CallArgs a)
    {
        a.Accept("d", "attribute");
        var sep = a.Get(0, "d") is { } d ? Py.Str(d) : PyStr.Empty;
        var attr = a.Get(1, "attribute");
        var parts = Py.Iterate(v).Select(x => Py.Str(attr is null ? x : Attribute(x, attr))).ToList();
        return PyStr.Join(sep, parts);
    }

    /// <summary>jinja2's attribute getter: dotted names and integer parts, item access first.</summary>
    internal static object? Attribute(object? item, object? attribute, object? fallback = null)
    {
        IEnumerable<object?> parts = attribute is PyStr s
            ? s.Value.Split('.').Select(p => long.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? (object?)n : new PyStr(p))
            : [attribute];
        foreach (var p in parts)
        {
            item = Access.GetItem(item, p);
            if (item is Undefined && fallback is not null) return fallback;
        }
        return item;
    }

    private static object? ToInt(object? v, CallArgs a)
    {
        a.Accept("default", "base");
        object fallback = a.Get(0, "default", 0L)!;
        long numberBase = a.Int(1, "base", 10);
        switch (v)
        {
            case long or bool: return PyOps.AsLong(v);
            case double d: return double.IsFinite(d) ? (long)Math.Truncate(d) : fallback;
            case PyStr s:
                string t = s.Value.Trim().Replace("_", "", StringComparison.Ordinal);
                try
                {
                    if (numberBase == 10 && long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
                    if (numberBase != 10) return Convert.ToInt64(t, (int)numberBase);
                }
                catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
                {
                    return fallback;
                }
                return double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) && double.IsFinite(f)
                    ? (long)Math.Truncate(f) : fallback;
            default: return fallback;
        }
    }

    private static object? ToFloat(object? v, CallArgs a)
    {
        a.Accept("default");
        object fallback = a.Get(0, "default", 0.0)!;
        return v switch
        {
            long or bool => PyOps.AsDouble(v),
            double d => d,
            PyStr s when ParseFloat(s.Value.Trim()) is { } f => f,
            _ => fallback,
        };
    }

    private static double? ParseFloat(string s) => s.ToLowerInvariant() switch
    {
        "inf" or "+inf" or "infinity" or "+infinity" => double.PositiveInfinity,
        "-inf" or "-infinity" => double.NegativeInfinity,
        "nan" or "+nan" or "-nan" => double.NaN,
        _ => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : null,
    };

    private static object? Round(object? v, CallArgs a)
    {
        a.Accept("precision", "method");
        long precision = a.Int(0, "precision", 0);
        string method = a.Get(1, "method") is PyStr m ? m.Value : "common";
        if (method == "common" && v is long or bool) return PyOps.AsLong(v);
        double x = PyOps.AsDouble(v), scale = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(x, (int)Math.Clamp(precision, 0, 15), MidpointRounding.ToEven),
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw PyException.Type("method must be 'common', 'ceil' or 'floor'"),
        };
    }

    private static object? Indent(object? v, CallArgs a)
    {
        a.Accept("width", "first", "blank");
        var widthArg = a.Get(0, "width", 4L);
        string indention = widthArg is PyStr w ? w.Value : new string(' ', (int)PyOps.AsLong(widthArg));
        bool first = a.Bool(1, "first", false), blank = a.Bool(2, "blank", false);
        var s = PyStr.Concat(Py.Str(v), new PyStr("\n"));
        var lines = PyMethods.Get(s, "splitlines")!.Invoke([], []) as PyList;
        var items = lines!.Items.Cast<PyStr>().ToList();
        var ind = new PyStr(indention);
        var nl = new PyStr("\n");
        PyStr rv;
        if (blank) rv = PyStr.Join(PyStr.Concat(nl, ind), items);
        else
        {
            rv = items.Count > 0 ? items[0] : PyStr.Empty;
            if (items.Count > 1)
                rv = PyStr.Concat(PyStr.Concat(rv, nl), PyStr.Join(nl, [.. items.Skip(1).Select(l => l.Length > 0 ? PyStr.Concat(ind, l) : l)]));
        }
        return first ? PyStr.Concat(ind, rv) : rv;
    }

    private static string Title(string v)
    {
        // jinja2's do_title: words begin after runs of '-', whitespace, '(', '{', '[' or '<'.
        var sb = new StringBuilder(v.Length);
        bool start = true;
        foreach (char c in v)
        {
            bool separator = c is '-' or '(' or '{' or '[' or '<' || PyMethods.IsSpace(c);
            sb.Append(separator ? c : start ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c));
            start = separator;
        }
        return sb.ToString();
    }
}
