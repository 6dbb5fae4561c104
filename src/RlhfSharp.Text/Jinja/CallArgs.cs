namespace RlhfSharp.Text.Jinja;

/// <summary>The arguments of one call of a filter, test, method or global, bound by position or keyword like Python does.</summary>
internal readonly struct CallArgs(string function, IReadOnlyList<object?> positional, IReadOnlyList<(string Name, object? Value)> keyword)
{
    public static CallArgs Of(string function, params object?[] positional) => new(function, positional, []);

    public string Function { get; } = function;

    public IReadOnlyList<object?> Positional { get; } = positional;

    public IReadOnlyList<(string Name, object? Value)> Keyword { get; } = keyword;

    /// <summary>Fails unless every argument matches one of <paramref name="names"/> (in order for positional ones).</summary>
    public CallArgs Accept(params string[] names)
    {
        if (Positional.Count > names.Length)
            throw PyException.Type($"{Function}() takes at most {names.Length} argument{(names.Length == 1 ? "" : "s")} ({Positional.Count} given)");
        foreach (var (name, _) in Keyword)
        {
            int i = Array.IndexOf(names, name);
            if (i < 0) throw PyException.Type($"{Function}() got an unexpected keyword argument '{name}'");
            if (i < Positional.Count) throw PyException.Type($"{Function}() got multiple values for argument '{name}'");
        }
        return this;
    }

    public bool Has(int index, string name) => index < Positional.Count || Keyword.Any(k => k.Name == name);

    public object? Get(int index, string name, object? fallback = null)
    {
        if (index < Positional.Count) return Positional[index];
        foreach (var (n, v) in Keyword) if (n == name) return v;
        return fallback;
    }

    public object? Required(int index, string name) =>
        Has(index, name) ? Get(index, name) : throw PyException.Type($"{Function}() missing required argument '{name}'");

    public PyStr? OptionalStr(int index, string name)
    {
        var v = Get(index, name);
        return v switch
        {
            null => null,
            PyStr s => s,
            _ => throw PyException.Type($"{Function}() argument '{name}' must be str or None, not {Py.TypeName(v)}"),
        };
    }

    public long Int(int index, string name, long fallback)
    {
        var v = Get(index, name, fallback);
        return v is long or bool ? PyOps.AsLong(v) : throw PyException.Type($"{Function}() argument '{name}' must be an integer, not '{Py.TypeName(v)}'");
    }

    public bool Bool(int index, string name, bool fallback) => Py.Truthy(Get(index, name, fallback));
}
