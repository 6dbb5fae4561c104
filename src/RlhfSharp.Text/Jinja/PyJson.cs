using System.Globalization;
using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>
/// Python's <c>json.dumps(x, ensure_ascii, indent, separators, sort_keys)</c>, which Hugging
/// Face's <c>tojson</c> filter calls: separators default to <c>", "</c> and <c>": "</c>
/// (<c>","</c> and <c>": "</c> with an indent), floats print as Python's repr, non-ASCII stays
/// as it is unless ensure_ascii.
/// </summary>
internal static class PyJson
{
    public static string Dumps(object? value, bool ensureAscii, string? indent, string itemSeparator, string keySeparator, bool sortKeys)
    {
        var sb = new StringBuilder();
        Write(sb, value, ensureAscii, indent, itemSeparator, keySeparator, sortKeys, 0);
        return sb.ToString();
    }

    private static void Write(StringBuilder sb, object? v, bool ascii, string? indent, string itemSep, string keySep, bool sort, int level)
    {
        switch (v)
        {
            case null: sb.Append("null"); return;
            case bool b: sb.Append(b ? "true" : "false"); return;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); return;
            case System.Numerics.BigInteger b: sb.Append(b.ToString(CultureInfo.InvariantCulture)); return;
            case double d: sb.Append(Float(d)); return;
            case PyStr s: WriteString(sb, s.Value, ascii); return;
            case PyList list:
                WriteContainer(sb, '[', ']', list.Items.Select(x => (Key: (string?)null, Value: x)).ToList(), ascii, indent, itemSep, keySep, sort, level);
                return;
            case PyDict dict:
                var pairs = dict.Map.Select(kv => (Key: (string?)KeyString(kv.Key), kv.Value)).ToList();
                if (sort)
                {
                    if (dict.Map.Keys.Any(k => k is not PyStr) && dict.Map.Keys.Any(k => k is PyStr))
                        throw PyException.Type("'<' not supported between instances of mixed key types in tojson(sort_keys=True)");
                    pairs = [.. pairs.OrderBy(p => p.Key, StringComparer.Ordinal)];
                }
                WriteContainer(sb, '{', '}', pairs, ascii, indent, itemSep, keySep, sort, level);
                return;
            default:
                throw PyException.Type($"Object of type {Py.TypeName(v)} is not JSON serializable");
        }
    }

    private static string KeyString(object key) => key switch
    {
        PyStr s => s.Value,
        NoneKey => "null",
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        _ => throw PyException.Type($"keys must be str, int, float, bool or None, not {Py.TypeName(key)}"),
    };

    private static void WriteContainer(StringBuilder sb, char open, char close, List<(string? Key, object? Value)> items,
        bool ascii, string? indent, string itemSep, string keySep, bool sort, int level)
    {
        sb.Append(open);
        if (items.Count == 0)
        {
            sb.Append(close);
            return;
        }
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(itemSep);
            if (indent is not null) NewLine(sb, indent, level + 1);
            if (items[i].Key is { } key)
            {
                WriteString(sb, key, ascii);
                sb.Append(keySep);
            }
            Write(sb, items[i].Value, ascii, indent, itemSep, keySep, sort, level + 1);
        }
        if (indent is not null) NewLine(sb, indent, level);
        sb.Append(close);
    }

    private static void NewLine(StringBuilder sb, string indent, int level)
    {
        sb.Append('\n');
        for (int i = 0; i < level; i++) sb.Append(indent);
    }

    private static string Float(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : Py.FloatRepr(d);

    private static void WriteString(StringBuilder sb, string s, bool ascii)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20 || (ascii && c > 0x7e)) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
