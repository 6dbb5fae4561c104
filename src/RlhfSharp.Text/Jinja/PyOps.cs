namespace RlhfSharp.Text.Jinja;

/// <summary>Python's == as a comparer, for dict keys and unique/in.</summary>
internal sealed class PyEquality : IEqualityComparer<object>
{
    public static readonly PyEquality Comparer = new();

    public new bool Equals(object? a, object? b) => PyOps.Eq(a is NoneKey ? null : a, b is NoneKey ? null : b);

    public int GetHashCode(object o) => o switch
    {
        PyStr s => s.GetHashCode(),
        bool b => b ? 1 : 0,
        long l => l.GetHashCode(),
        double d => d == Math.Floor(d) && Math.Abs(d) < 9e18 ? ((long)d).GetHashCode() : d.GetHashCode(),
        PyList l => l.Count,
        _ => 0,
    };
}

/// <summary>Python's operators on the runtime's values.</summary>
internal static class PyOps
{
    public static bool Eq(object? a, object? b)
    {
        if (a is null || b is null) return a is null && b is null;
        if (IsNum(a) && IsNum(b)) return a is double || b is double ? AsDouble(a) == AsDouble(b) : AsLong(a) == AsLong(b);
        return (a, b) switch
        {
            (PyStr x, PyStr y) => x.Value == y.Value,
            (System.Numerics.BigInteger x, System.Numerics.BigInteger y) => x == y,
            (PyList x, PyList y) => x.IsTuple == y.IsTuple && x.Count == y.Count && x.Items.Zip(y.Items).All(p => Eq(p.First, p.Second)),
            (PyDict x, PyDict y) => x.Count == y.Count && x.Map.All(kv => y.Map.TryGetValue(kv.Key, out var v) && Eq(kv.Value, v)),
            (Undefined, Undefined) => true,
            _ => ReferenceEquals(a, b),
        };
    }

    private static bool IsNum(object? v) => v is long or double or bool;

    public static long AsLong(object? v) => v switch
    {
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw PyException.Type($"expected an integer, got '{Py.TypeName(v)}'"),
    };

    public static double AsDouble(object? v) => v switch
    {
        double d => d,
        long l => l,
        bool b => b ? 1 : 0,
        _ => throw PyException.Type($"expected a number, got '{Py.TypeName(v)}'"),
    };

    private static Exception Unsupported(string op, object? a, object? b)
    {
        if (a is Undefined u) return u.Fail();
        if (b is Undefined v) return v.Fail();
        return PyException.Type($"unsupported operand type(s) for {op}: '{Py.TypeName(a)}' and '{Py.TypeName(b)}'");
    }

    /// <summary>Python's ordering (&lt;): numbers, strings by code point, lists and tuples item by item.</summary>
    public static int Compare(object? a, object? b, string op)
    {
        if (IsNum(a) && IsNum(b))
            return a is double || b is double ? AsDouble(a).CompareTo(AsDouble(b)) : AsLong(a).CompareTo(AsLong(b));
        if (a is PyStr x && b is PyStr y) return string.CompareOrdinal(x.Value, y.Value);
        if (a is PyList l && b is PyList m && l.IsTuple == m.IsTuple)
        {
            for (int i = 0; i < Math.Min(l.Count, m.Count); i++)
                if (!Eq(l.Items[i], m.Items[i])) return Compare(l.Items[i], m.Items[i], op);
            return l.Count.CompareTo(m.Count);
        }
        if (a is Undefined u) throw u.Fail();
        if (b is Undefined v) throw v.Fail();
        throw PyException.Type($"'{op}' not supported between instances of '{Py.TypeName(a)}' and '{Py.TypeName(b)}'");
    }

    public static bool Contains(object? container, object? item) => container switch
    {
        PyStr s when item is PyStr t => s.Value.Contains(t.Value, StringComparison.Ordinal),
        PyStr => throw PyException.Type($"'in <string>' requires string as left operand, not {Py.TypeName(item)}"),
        PyList l => l.Items.Any(x => Eq(x, item)),
        PyDict d => d.TryGet(item, out _),
        Undefined u => throw u.Fail(),
        _ => throw PyException.Type($"argument of type '{Py.TypeName(container)}' is not iterable"),
    };

    public static object? Binary(string op, object? a, object? b) => op switch
    {
        "+" => Add(a, b),
        "-" => Arith(op, a, b, (x, y) => x - y, (x, y) => x - y),
        "*" => Mul(a, b),
        "/" => IsNum(a) && IsNum(b) ? (AsDouble(b) == 0 ? throw PyException.Type("division by zero") : AsDouble(a) / AsDouble(b)) : throw Unsupported(op, a, b),
        "//" => FloorDiv(a, b),
        "%" => Mod(a, b),
        "**" => Pow(a, b),
        "~" => PyStr.Concat(Py.Str(a), Py.Str(b)),
        _ => throw new InvalidOperationException(op),
    };

    private static object Arith(string op, object? a, object? b, Func<long, long, long> onLong, Func<double, double, double> onDouble)
    {
        if (!IsNum(a) || !IsNum(b)) throw Unsupported(op, a, b);
        if (a is double || b is double) return onDouble(AsDouble(a), AsDouble(b));
        try
        {
            return checked(onLong(AsLong(a), AsLong(b)));
        }
        catch (OverflowException)
        {
            throw PyException.Type("integer result too large for this engine (64-bit integers)");
        }
    }

    private static object Add(object? a, object? b) => (a, b) switch
    {
        (PyStr x, PyStr y) => PyStr.Concat(x, y),
        (PyList x, PyList y) when x.IsTuple == y.IsTuple => new PyList([.. x.Items, .. y.Items], x.IsTuple),
        (PyStr, _) => throw PyException.Type($"can only concatenate str (not \"{Py.TypeName(b)}\") to str"),
        (PyList x, _) when !x.IsTuple => throw PyException.Type($"can only concatenate list (not \"{Py.TypeName(b)}\") to list"),
        _ => Arith("+", a, b, (x, y) => x + y, (x, y) => x + y),
    };

    private static object Mul(object? a, object? b)
    {
        if (a is PyStr or PyList && b is long or bool) return Repeat(a, AsLong(b));
        if (b is PyStr or PyList && a is long or bool) return Repeat(b, AsLong(a));
        return Arith("*", a, b, (x, y) => x * y, (x, y) => x * y);
    }

    private static object Repeat(object? seq, long n)
    {
        if (n * Py.Len(seq) > 100_000_000) throw PyException.Type("repeated sequence would be too long");
        if (seq is PyStr s) return PyStr.Derived(string.Concat(Enumerable.Repeat(s.Value, (int)Math.Max(0, n))), s);
        var l = (PyList)seq!;
        var items = new List<object?>();
        for (long i = 0; i < n; i++) items.AddRange(l.Items);
        return new PyList(items, l.IsTuple);
    }

    private static object FloorDiv(object? a, object? b)
    {
        if (!IsNum(a) || !IsNum(b)) throw Unsupported("//", a, b);
        if (AsDouble(b) == 0) throw PyException.Type("integer division or modulo by zero");
        if (a is double || b is double) return Math.Floor(AsDouble(a) / AsDouble(b));
        long x = AsLong(a), y = AsLong(b), q = x / y;
        return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
    }

    private static object Mod(object? a, object? b)
    {
        if (a is PyStr) throw PyException.Type("printf-style '%' formatting of strings is not supported; use the format filter or ~");
        if (!IsNum(a) || !IsNum(b)) throw Unsupported("%", a, b);
        if (AsDouble(b) == 0) throw PyException.Type("integer division or modulo by zero");
        if (a is double || b is double)
        {
            double x = AsDouble(a), y = AsDouble(b), r = x % y;
            return r != 0 && (r < 0) != (y < 0) ? r + y : r;
        }
        long p = AsLong(a), q = AsLong(b), m = p % q;
        return m != 0 && (m < 0) != (q < 0) ? m + q : m;
    }

    private static object Pow(object? a, object? b)
    {
        if (!IsNum(a) || !IsNum(b)) throw Unsupported("**", a, b);
        if (a is double || b is double || AsLong(b) < 0) return Math.Pow(AsDouble(a), AsDouble(b));
        long result = 1, x = AsLong(a);
        try
        {
            // Exponentiation by squaring: the loop runs once per bit of the exponent.
            for (long e = AsLong(b); e > 0; e >>= 1)
            {
                if ((e & 1) != 0) result = checked(result * x);
                if (e > 1) x = checked(x * x);
            }
        }
        catch (OverflowException)
        {
            throw PyException.Type("integer result too large for this engine (64-bit integers)");
        }
        return result;
    }
}
