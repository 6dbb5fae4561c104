using System.Globalization;
using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>Python's semantics for the runtime's values: truth, str(), repr(), type names, len(), iteration.</summary>
internal static class Py
{
    public static bool Truthy(object? v) => v switch
    {
        null => false,
        bool b => b,
        long l => l != 0,
        System.Numerics.BigInteger b => !b.IsZero,
        double d => d != 0,
        PyStr s => s.Length > 0,
        PyList l => l.Count > 0,
        PyDict d => d.Count > 0,
        Undefined => false,
        _ => true,
    };

    public static bool IsNumber(object? v) => v is long or double or bool;

    /// <summary>Python's str(); the result keeps a string's provenance, and is all content when any part of a container was.</summary>
    public static PyStr Str(object? v) => v switch
    {
        PyStr s => s,
        Undefined => PyStr.Empty,
        PyList or PyDict => PyStr.Derived(Repr(v), HasContent(v) ? new PyStr("x", true) : null),
        _ => new PyStr(Repr(v)),
    };

    /// <summary>True when the value is, or holds, a string that came from the conversation.</summary>
    public static bool HasContent(object? v) => v switch
    {
        PyStr s => s.HasContent,
        PyList l => l.Items.Any(HasContent),
        PyDict d => d.Map.Any(kv => HasContent(kv.Key) || HasContent(kv.Value)),
        _ => false,
    };

    public static string Repr(object? v) => v switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        System.Numerics.BigInteger b => b.ToString(CultureInfo.InvariantCulture),
        double d => FloatRepr(d),
        PyStr s => StrRepr(s.Value),
        PyList l when l.IsTuple => l.Count == 1 ? $"({Repr(l.Items[0])},)" : $"({string.Join(", ", l.Items.Select(Repr))})",
        PyList l => $"[{string.Join(", ", l.Items.Select(Repr))}]",
        PyDict d => $"{{{string.Join(", ", d.Map.Select(kv => $"{Repr(kv.Key is NoneKey ? null : kv.Key)}: {Repr(kv.Value)}"))}}}",
        PyNamespace n => $"<Namespace {{{string.Join(", ", n.Attributes.Select(kv => $"{StrRepr(kv.Key)}: {Repr(kv.Value)}"))}}}>",
        Undefined => "",
        PyCallable c => $"<function {c.Name}>",
        LoopContext => "<LoopContext>",
        _ => v.ToString() ?? "",
    };

    /// <summary>Python's repr of a float: the shortest digits that read back, fixed between 1e-4 and 1e16, else exponent form.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return double.IsNegative(d) ? "-0.0" : "0.0";
        string shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        // Digits and decimal exponent of the shortest round-trip form.
        string mantissa = shortest, expPart = "0";
        int e = shortest.IndexOfAny(['E', 'e']);
        if (e >= 0) { mantissa = shortest[..e]; expPart = shortest[(e + 1)..]; }
        int exp10 = int.Parse(expPart, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.');
        string intPart = dot < 0 ? mantissa : mantissa[..dot], frac = dot < 0 ? "" : mantissa[(dot + 1)..];
        string digits = (intPart + frac).TrimStart('0');
        int leadingZeros = (intPart + frac).Length - digits.Length;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int pointPos = intPart.Length + exp10 - leadingZeros; // value = 0.digits * 10^pointPos
        int sciExp = pointPos - 1;
        var sb = new StringBuilder();
        if (d < 0) sb.Append('-');
        if (sciExp is >= -4 and < 16)
        {
            if (pointPos <= 0) sb.Append("0.").Append('0', -pointPos).Append(digits);
            else if (pointPos >= digits.Length) sb.Append(digits).Append('0', pointPos - digits.Length).Append(".0");
            else sb.Append(digits, 0, pointPos).Append('.').Append(digits, pointPos, digits.Length - pointPos);
        }
        else
        {
            sb.Append(digits[0]);
            if (digits.Length > 1) sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(sciExp < 0 ? '-' : '+').Append(Math.Abs(sciExp).ToString("00", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    public static string StrRepr(string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder().Append(quote);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c == quote) { sb.Append('\\').Append(c); break; }
                    int cp = c;
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) cp = char.ConvertToUtf32(c, s[i + 1]);
                    if (IsPrintable(cp)) sb.Append(char.ConvertFromUtf32(cp));
                    else if (cp < 0x100) sb.Append(CultureInfo.InvariantCulture, $"\\x{cp:x2}");
                    else if (cp < 0x10000) sb.Append(CultureInfo.InvariantCulture, $"\\u{cp:x4}");
                    else sb.Append(CultureInfo.InvariantCulture, $"\\U{cp:x8}");
                    if (cp > 0xFFFF) i++;
                    break;
            }
        }
        return sb.Append(quote).ToString();
    }

    // Python's str.isprintable for one code point: not a control, format, surrogate, private-use,
    // unassigned or separator character (the ASCII space excepted).
    private static bool IsPrintable(int cp)
    {
        if (cp == ' ') return true;
        if (cp is >= 0xD800 and <= 0xDFFF) return false;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.SpaceSeparator => false,
            _ => true,
        };
    }

    /// <summary>The type name Python reports ("str", "int", "NoneType"...).</summary>
    public static string TypeName(object? v) => v switch
    {
        null => "NoneType",
        bool => "bool",
        long or System.Numerics.BigInteger => "int",
        double => "float",
        PyStr => "str",
        PyList l => l.IsTuple ? "tuple" : "list",
        PyDict => "dict",
        PyNamespace => "Namespace",
        Undefined => "Undefined",
        PyCallable => "function",
        LoopContext => "LoopContext",
        _ => v.GetType().Name,
    };

    public static long Len(object? v) => v switch
    {
        PyStr s => s.CodePointLength,
        PyList l => l.Count,
        PyDict d => d.Count,
        Undefined => 0,
        _ => throw PyException.Type($"object of type '{TypeName(v)}' has no len()"),
    };

    /// <summary>Python iteration: a string's characters, a list's items, a dict's keys; Undefined is empty.</summary>
    public static IReadOnlyList<object?> Iterate(object? v) => v switch
    {
        PyList l => l.Items,
        PyDict d => [.. d.Keys],
        PyStr s => [.. Enumerable.Range(0, s.CodePointLength).Select(i => (object?)s.CodePoints(i, 1))],
        Undefined => [],
        _ => throw PyException.Type($"'{TypeName(v)}' object is not iterable"),
    };
}
