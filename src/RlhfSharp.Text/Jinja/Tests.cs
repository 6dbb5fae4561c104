namespace RlhfSharp.Text.Jinja;

/// <summary>jinja2's built-in tests (<c>x is defined</c>, <c>x is divisibleby 3</c>...).</summary>
internal static class Tests
{
    private delegate bool Test(object? value, CallArgs a);

    private static Test NoArgs(Func<object?, bool> f) => (v, a) => { a.Accept(); return f(v); };

    private static Test Other(Func<object?, object?, bool> f) => (v, a) => { a.Accept("other"); return f(v, a.Required(0, "other")); };

    private static readonly Dictionary<string, Test> All = new(StringComparer.Ordinal)
    {
        ["defined"] = NoArgs(v => v is not Undefined),
        ["undefined"] = NoArgs(v => v is Undefined),
        ["none"] = NoArgs(v => v is null),
        ["string"] = NoArgs(v => v is PyStr),
        ["number"] = NoArgs(v => v is long or double or bool or System.Numerics.BigInteger),
        ["integer"] = NoArgs(v => v is long or System.Numerics.BigInteger),
        ["float"] = NoArgs(v => v is double),
        ["boolean"] = NoArgs(v => v is bool),
        ["true"] = NoArgs(v => v is true),
        ["false"] = NoArgs(v => v is false),
        ["mapping"] = NoArgs(v => v is PyDict),
        ["sequence"] = NoArgs(v => v is PyStr or PyList or PyDict),
        ["iterable"] = NoArgs(v => v is PyStr or PyList or PyDict),
        ["callable"] = NoArgs(v => v is PyCallable),
        ["even"] = NoArgs(v => PyOps.AsLong(Integer(v)) % 2 == 0),
        ["odd"] = NoArgs(v => PyOps.AsLong(Integer(v)) % 2 != 0),
        ["divisibleby"] = (v, a) =>
        {
            a.Accept("num");
            var num = a.Required(0, "num");
            return PyOps.Eq(PyOps.Binary("%", v, num), 0L);
        },
        ["lower"] = NoArgs(v => Py.Str(v).Value == Py.Str(v).Value.ToLowerInvariant()),
        ["upper"] = NoArgs(v => Py.Str(v).Value == Py.Str(v).Value.ToUpperInvariant()),
        ["in"] = (v, a) => { a.Accept("seq"); return PyOps.Contains(a.Required(0, "seq"), v); },
        ["eq"] = Other(PyOps.Eq),
        ["equalto"] = Other(PyOps.Eq),
        ["=="] = Other(PyOps.Eq),
        ["ne"] = Other((x, y) => !PyOps.Eq(x, y)),
        ["!="] = Other((x, y) => !PyOps.Eq(x, y)),
        ["gt"] = Other((x, y) => PyOps.Compare(x, y, ">") > 0),
        ["greaterthan"] = Other((x, y) => PyOps.Compare(x, y, ">") > 0),
        [">"] = Other((x, y) => PyOps.Compare(x, y, ">") > 0),
        ["ge"] = Other((x, y) => PyOps.Compare(x, y, ">=") >= 0),
        [">="] = Other((x, y) => PyOps.Compare(x, y, ">=") >= 0),
        ["lt"] = Other((x, y) => PyOps.Compare(x, y, "<") < 0),
        ["lessthan"] = Other((x, y) => PyOps.Compare(x, y, "<") < 0),
        ["<"] = Other((x, y) => PyOps.Compare(x, y, "<") < 0),
        ["le"] = Other((x, y) => PyOps.Compare(x, y, "<=") <= 0),
        ["<="] = Other((x, y) => PyOps.Compare(x, y, "<=") <= 0),
        ["sameas"] = Other(SameAs),
        ["escaped"] = NoArgs(_ => false),
    };

    private static object? Integer(object? v) => v is long or bool ? v : v is Undefined u ? throw u.Fail()
        : throw PyException.Type($"not all arguments converted during string formatting ({Py.TypeName(v)} is not an integer)");

    /// <summary>Python's <c>is</c>: identity; None, booleans and equal small ints are the same object in CPython.</summary>
    private static bool SameAs(object? x, object? y) => (x, y) switch
    {
        (null, null) => true,
        (bool a, bool b) => a == b,
        (long a, long b) => a == b && a is >= -5 and <= 256,
        _ => ReferenceEquals(x, y),
    };

    public static bool Exists(string name) => All.ContainsKey(name);

    public static bool Apply(string name, object? value, CallArgs args) =>
        All.TryGetValue(name, out var t) ? t(value, args) : throw PyException.Type($"No test named '{name}' found.");
}
