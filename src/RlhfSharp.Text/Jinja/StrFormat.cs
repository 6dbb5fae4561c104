using System.Text;

namespace RlhfSharp.Text.Jinja;

/// <summary>Python's str.format for plain replacement fields (<c>{}</c>, <c>{0}</c>, <c>{name}</c>, <c>{{</c>, <c>}}</c>); format specs are refused.</summary>
internal static class StrFormat
{
    public static PyStr Format(PyStr template, CallArgs a)
    {
        var result = PyStr.Empty;
        var literal = new StringBuilder();
        string v = template.Value;
        int auto = 0;
        void Flush()
        {
            result = PyStr.Concat(result, new PyStr(literal.ToString()));
            literal.Clear();
        }
        for (int i = 0; i < v.Length; i++)
        {
            char c = v[i];
            if (c == '}')
            {
                if (i + 1 < v.Length && v[i + 1] == '}') { literal.Append('}'); i++; continue; }
                throw PyException.Type("Single '}' encountered in format string");
            }
            if (c != '{') { literal.Append(c); continue; }
            if (i + 1 < v.Length && v[i + 1] == '{') { literal.Append('{'); i++; continue; }
            int close = v.IndexOf('}', i);
            if (close < 0) throw PyException.Type("Single '{' encountered in format string");
            string field = v[(i + 1)..close];
            if (field.Contains(':') || field.Contains('!')) throw PyException.Type($"format spec in '{{{field}}}' is not supported; use plain fields");
            object? value;
            if (field.Length == 0) value = Positional(a, auto++);
            else if (int.TryParse(field, out int index)) value = Positional(a, index);
            else value = a.Keyword.FirstOrDefault(k => k.Name == field) is { Name: not null } kw ? kw.Value : throw PyException.Type($"KeyError: '{field}'");
            Flush();
            result = PyStr.Concat(result, Py.Str(value));
            i = close;
        }
        Flush();
        return result;
    }

    private static object? Positional(CallArgs a, int index) =>
        index < a.Positional.Count ? a.Positional[index] : throw PyException.Type($"Replacement index {index} out of range for positional args tuple");
}
