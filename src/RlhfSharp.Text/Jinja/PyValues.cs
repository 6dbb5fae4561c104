namespace RlhfSharp.Text.Jinja;

// The runtime's values: null is None, bool, long (int), double (float), PyStr (str), PyList
// (list and tuple), PyDict (dict), and the types below.

/// <summary>A Python list or tuple. Lists are immutable in the sandbox, so both are read-only here.</summary>
internal sealed class PyList(IReadOnlyList<object?> items, bool isTuple = false)
{
    public static readonly PyList EmptyList = new([]);

    public IReadOnlyList<object?> Items { get; } = items;

    public bool IsTuple { get; } = isTuple;

    public int Count => Items.Count;
}

/// <summary>A Python dict: insertion-ordered, keys compared with Python equality.</summary>
internal sealed class PyDict
{
    public PyDict() => Map = new OrderedDictionary<object, object?>(PyEquality.Comparer);

    public OrderedDictionary<object, object?> Map { get; }

    public int Count => Map.Count;

    public bool TryGet(object? key, out object? value)
    {
        value = null;
        return key is not null ? Map.TryGetValue(key, out value) : Map.TryGetValue(NoneKey.Instance, out value);
    }

    public void Set(object? key, object? value) => Map[key ?? NoneKey.Instance] = value;

    public IEnumerable<object?> Keys => Map.Keys.Select(k => k is NoneKey ? null : k);
}

/// <summary>Stands for None as a dict key.</summary>
internal sealed class NoneKey
{
    public static readonly NoneKey Instance = new();
}

/// <summary><c>namespace(...)</c>: the one mutable object, whose attributes <c>{% set ns.x = ... %}</c> assigns.</summary>
internal sealed class PyNamespace
{
    public Dictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// jinja2's default Undefined: prints as "", is false, iterates as empty; using it otherwise
/// (attribute, item, call, arithmetic) fails with its message.
/// </summary>
internal sealed class Undefined(string message, JinjaErrorKind kind = JinjaErrorKind.Undefined)
{
    public string Message { get; } = message;

    public JinjaErrorKind Kind { get; } = kind;

    public PyException Fail() => new(Kind, Message);

    public static Undefined Named(string name) => new($"'{name}' is undefined");
}

/// <summary>Something callable: a global function, a bound method, a macro, <c>loop.cycle</c>.</summary>
internal sealed class PyCallable(string name, Func<IReadOnlyList<object?>, IReadOnlyList<(string Name, object? Value)>, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(IReadOnlyList<object?> args, IReadOnlyList<(string Name, object? Value)> kwargs) => invoke(args, kwargs);
}
