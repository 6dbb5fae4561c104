namespace RlhfSharp.Text.Jinja;

/// <summary>The filters over sequences: select/reject(attr), map, unique, sort, batch, min/max.</summary>
internal static partial class Filters
{
    private static readonly Dictionary<string, Filter> Sequences = new(StringComparer.Ordinal)
    {
        ["selectattr"] = (v, a) => SelectOrReject(v, a, byAttribute: true, keep: true),
        ["rejectattr"] = (v, a) => SelectOrReject(v, a, byAttribute: true, keep: false),
        ["select"] = (v, a) => SelectOrReject(v, a, byAttribute: false, keep: true),
        ["reject"] = (v, a) => SelectOrReject(v, a, byAttribute: false, keep: false),
        ["map"] = Map,
        ["dictsort"] = DictSort,
    };

    private static object? DictSort(object? v, CallArgs a)
    {
        a.Accept("case_sensitive", "by", "reverse");
        if (v is not PyDict d) throw PyException.Type($"dictsort: expected a mapping, got {Py.TypeName(v)}");
        bool cs = a.Bool(0, "case_sensitive", false), reverse = a.Bool(2, "reverse", false);
        string by = a.Get(1, "by") is PyStr b ? b.Value : "key";
        if (by is not ("key" or "value")) throw PyException.Type("You can only sort by either 'key' or 'value'");
        var items = PyMethods.Get(d, "items")!.Invoke([], []) as PyList;
        var keyed = items!.Items.Select(x => (Key: SortKey(((PyList)x!).Items[by == "key" ? 0 : 1], null, cs), Item: (object?)x)).ToList();
        return new PyList(StableSort(keyed, reverse));
    }

    private static bool MoreExists(string name) => Sequences.ContainsKey(name);

    private static object? ApplyMore(string name, object? value, CallArgs args) =>
        Sequences.TryGetValue(name, out var f) ? f(value, args) : throw PyException.Type($"No filter named '{name}' found.");

    private static PyList SelectOrReject(object? v, CallArgs a, bool byAttribute, bool keep)
    {
        int skip = byAttribute ? 1 : 0;
        var attr = byAttribute ? a.Required(0, "attribute") : null;
        string? test = a.Positional.Count > skip ? (a.Positional[skip] as PyStr)?.Value
            ?? throw PyException.Type($"{a.Function}: the test name must be a string") : null;
        if (test is not null && !Tests.Exists(test)) throw PyException.Type($"No test named '{test}'.");
        var testArgs = new CallArgs(test ?? "", [.. a.Positional.Skip(skip + 1)], a.Keyword);
        var result = new List<object?>();
        foreach (var item in Py.Iterate(v))
        {
            var x = byAttribute ? Attribute(item, attr) : item;
            bool passed = test is null ? Py.Truthy(x) : Py.Truthy(Tests.Apply(test, x, testArgs));
            if (passed == keep) result.Add(item);
        }
        return new PyList(result);
    }

    private static PyList Map(object? v, CallArgs a)
    {
        if (a.Positional.Count == 0 && a.Keyword.Any(k => k.Name == "attribute"))
        {
            a.Accept("attribute", "default");
            var attr = a.Get(0, "attribute");
            var fallback = a.Get(1, "default");
            return new PyList([.. Py.Iterate(v).Select(x => Attribute(x, attr, fallback))]);
        }
        if (a.Positional.Count == 0 || a.Positional[0] is not PyStr name)
            throw PyException.Type("map requires a filter name or attribute=");
        if (!Exists(name.Value)) throw PyException.Type($"No filter named '{name.Value}'.");
        var rest = new CallArgs(name.Value, [.. a.Positional.Skip(1)], a.Keyword);
        return new PyList([.. Py.Iterate(v).Select(x => Apply(name.Value, x, rest))]);
    }

    /// <summary>The key unique/sort/min/max compare by: the attribute if given, strings lower-cased unless case-sensitive.</summary>
    private static object? SortKey(object? item, object? attribute, bool caseSensitive)
    {
        var x = attribute is null ? item : Attribute(item, attribute);
        return !caseSensitive && x is PyStr s ? new PyStr(s.Value.ToLowerInvariant()) : x;
    }

    private static object? Unique(object? v, CallArgs a)
    {
        a.Accept("case_sensitive", "attribute");
        bool cs = a.Bool(0, "case_sensitive", false);
        var attr = a.Get(1, "attribute");
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in Py.Iterate(v))
        {
            var key = SortKey(item, attr, cs);
            if (seen.Any(k => PyOps.Eq(k, key))) continue;
            seen.Add(key);
            result.Add(item);
        }
        return new PyList(result);
    }

    private static object? Sort(object? v, CallArgs a)
    {
        a.Accept("reverse", "case_sensitive", "attribute");
        bool reverse = a.Bool(0, "reverse", false), cs = a.Bool(1, "case_sensitive", false);
        var attr = a.Get(2, "attribute");
        var items = Py.Iterate(v).Select(x => (Key: SortKey(x, attr, cs), Item: x)).ToList();
        // Python's sort is stable, and reverse=True keeps equal items in their order too.
        return new PyList(StableSort(items, reverse));
    }

    /// <summary>Python's sorted(key=..., reverse=...): stable both ways; a comparison that fails fails the filter.</summary>
    private static List<object?> StableSort(List<(object? Key, object? Item)> items, bool reverse)
    {
        try
        {
            var sorted = reverse
                ? items.Select((x, i) => (x, i)).OrderByDescending(p => p.x.Key, Comparer).ThenBy(p => p.i).Select(p => p.x)
                : items.OrderBy(p => p.Key, Comparer);
            return [.. sorted.Select(p => p.Item)];
        }
        catch (InvalidOperationException e) when (e.InnerException is PyException inner)
        {
            throw inner;
        }
    }

    private static readonly Comparer<object?> Comparer = Comparer<object?>.Create((x, y) => PyOps.Compare(x, y, "<"));

    private static object? MinMax(object? v, CallArgs a, bool min)
    {
        a.Accept("case_sensitive", "attribute");
        bool cs = a.Bool(0, "case_sensitive", false);
        var attr = a.Get(1, "attribute");
        var items = Py.Iterate(v);
        if (items.Count == 0) return new Undefined($"No aggregated item, sequence was empty.");
        var best = items[0];
        foreach (var x in items.Skip(1))
        {
            int c = PyOps.Compare(SortKey(x, attr, cs), SortKey(best, attr, cs), "<");
            if (min ? c < 0 : c > 0) best = x;
        }
        return best;
    }

    private static object? Batch(object? v, CallArgs a)
    {
        a.Accept("linecount", "fill_with");
        long n = a.Int(0, "linecount", 1);
        if (n <= 0) throw PyException.Type("batch: linecount must be positive");
        bool fill = a.Has(1, "fill_with");
        var fillWith = a.Get(1, "fill_with");
        var rows = new List<object?>();
        var row = new List<object?>();
        foreach (var x in Py.Iterate(v))
        {
            if (row.Count == n) { rows.Add(new PyList(row)); row = []; }
            row.Add(x);
        }
        if (row.Count > 0)
        {
            if (fill) while (row.Count < n) row.Add(fillWith);
            rows.Add(new PyList(row));
        }
        return new PyList(rows);
    }
}
