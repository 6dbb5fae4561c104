using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Text.Jinja;

/// <summary>What rendering produced: the text, where the conversation's own text lies in it, and the <c>{% generation %}</c> blocks.</summary>
/// <param name="Text">The rendered text.</param>
/// <param name="ContentSpans">[Start, End) ranges (UTF-16 offsets) of characters that came from content variables (strings in them, through any operation).</param>
/// <param name="GenerationSpans">[Start, End) of each top-level <c>{% generation %}</c> block's text, in order.</param>
public sealed record JinjaOutput(string Text, IReadOnlyList<(int Start, int End)> ContentSpans, IReadOnlyList<(int Start, int End)> GenerationSpans);

/// <summary>
/// A Jinja template as Hugging Face transformers runs chat templates: jinja2's
/// ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, the loopcontrols extension
/// (break, continue), the <c>{% generation %}</c> tag, the <c>tojson</c> override and the
/// globals <c>raise_exception(message)</c> and <c>strftime_now(format)</c>.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly IReadOnlyList<Stmt> _body;

    private JinjaTemplate(string name, string source, IReadOnlyList<Stmt> body)
    {
        Name = name;
        Source = source;
        _body = body;
        HasGenerationBlocks = Contains(body, s => s is GenerationStmt);
    }

    /// <summary>Parses a template; malformed text throws <see cref="JinjaTemplateException"/> naming <paramref name="name"/> and the line.</summary>
    public static JinjaTemplate Parse(string source, string name = "template")
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(name);
        return new JinjaTemplate(name, source, Parser.Parse(name, source));
    }

    public string Name { get; }

    public string Source { get; }

    /// <summary>True when the template marks assistant text with <c>{% generation %}</c>.</summary>
    public bool HasGenerationBlocks { get; }

    /// <summary>The local time <c>strftime_now</c> formats; the system clock unless set with <see cref="WithClock"/>.</summary>
    public Func<DateTime> Clock { get; private set; } = () => DateTime.Now;

    /// <summary>The same template with <c>strftime_now</c> reading <paramref name="clock"/> (tests fix the time).</summary>
    public JinjaTemplate WithClock(Func<DateTime> clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        return new JinjaTemplate(Name, Source, _body) { Clock = clock };
    }

    /// <summary>
    /// Renders with <paramref name="variables"/> as the context. Strings inside the variables named in
    /// <paramref name="contentVariables"/> are the conversation's text: the output's
    /// <see cref="JinjaOutput.ContentSpans"/> say where they went. Failures throw <see cref="JinjaTemplateException"/>.
    /// </summary>
    public JinjaOutput Render(IReadOnlyDictionary<string, JsonNode?> variables, IReadOnlySet<string>? contentVariables = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = new Scope(null);
        AddGlobals(globals);
        foreach (var (key, node) in variables) globals.Set(key, FromJson(node, contentVariables?.Contains(key) ?? false));
        var (output, generation) = Renderer.Run(Name, _body, globals);
        return new JinjaOutput(output.Text, [.. output.ContentRanges], [.. generation]);
    }

    private void AddGlobals(Scope globals)
    {
        globals.Set("raise_exception", new PyCallable("raise_exception", (args, _) =>
            throw new PyException(JinjaErrorKind.Raised, args.Count > 0 ? Py.Str(args[0]).Value : "")));
        globals.Set("strftime_now", new PyCallable("strftime_now", (args, kwargs) =>
        {
            var a = new CallArgs("strftime_now", args, kwargs).Accept("format");
            return new PyStr(Strftime.Format(Clock(), Py.Str(a.Required(0, "format")).Value));
        }));
        globals.Set("namespace", new PyCallable("namespace", (args, kwargs) =>
        {
            var ns = new PyNamespace();
            foreach (var a in args)
            {
                if (a is not PyDict d) throw PyException.Type("namespace() takes a dict or keyword arguments");
                foreach (var kv in d.Map) ns.Attributes[Py.Str(kv.Key).Value] = kv.Value;
            }
            foreach (var (k, v) in kwargs) ns.Attributes[k] = v;
            return ns;
        }));
        globals.Set("dict", new PyCallable("dict", (args, kwargs) =>
        {
            if (args.Count > 0) throw PyException.Type("dict() takes keyword arguments only here");
            var d = new PyDict();
            foreach (var (k, v) in kwargs) d.Set(new PyStr(k), v);
            return d;
        }));
        globals.Set("range", new PyCallable("range", (args, _) =>
        {
            if (args.Count is < 1 or > 3) throw PyException.Type($"range expected 1 to 3 arguments, got {args.Count}");
            long start = args.Count > 1 ? PyOps.AsLong(args[0]) : 0, stop = PyOps.AsLong(args[args.Count > 1 ? 1 : 0]);
            long step = args.Count > 2 ? PyOps.AsLong(args[2]) : 1;
            if (step == 0) throw PyException.Type("range() arg 3 must not be zero");
            var items = new List<object?>();
            for (long i = start; step > 0 ? i < stop : i > stop; i += step)
            {
                if (items.Count >= 100_000) throw new PyException(JinjaErrorKind.Security, "range too big, maximum size for range is 100000.");
                items.Add(i);
            }
            return new PyList(items);
        }));
    }

    /// <summary>A JSON value as the runtime's value: objects become dicts, integers ints, other numbers floats.</summary>
    internal static object? FromJson(JsonNode? node, bool content) => node switch
    {
        null => null,
        JsonObject o => FromObject(o, content),
        JsonArray a => new PyList([.. a.Select(x => FromJson(x, content))]),
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => new PyStr(v.GetValue<string>(), content),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Null => null,
            JsonValueKind.Number => Number(v),
            _ => throw new ArgumentException($"unsupported JSON value {v.ToJsonString()}"),
        },
        _ => throw new ArgumentException($"unsupported JSON node {node.GetType().Name}"),
    };

    private static PyDict FromObject(JsonObject o, bool content)
    {
        var d = new PyDict();
        foreach (var (k, v) in o) d.Set(new PyStr(k, content), FromJson(v, content));
        return d;
    }

    private static object Number(JsonValue v)
    {
        string raw = v.ToJsonString();
        if (raw.AsSpan().IndexOfAny(".eE") < 0)
        {
            // Python's ints have no bound; ints past 64 bits print and serialise, but do no arithmetic here.
            if (long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l)) return l;
            return System.Numerics.BigInteger.Parse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        return double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    private static bool Contains(IEnumerable<Stmt> body, Func<Stmt, bool> match) => body.Any(s => match(s) || s switch
    {
        ForStmt f => Contains(f.Body, match) || Contains(f.Else, match),
        IfStmt i => i.Branches.Any(b => Contains(b.Body, match)) || Contains(i.Else, match),
        MacroStmt m => Contains(m.Body, match),
        CallBlockStmt c => Contains(c.Body, match),
        SetBlockStmt sb => Contains(sb.Body, match),
        FilterBlockStmt fb => Contains(fb.Body, match),
        GenerationStmt g => Contains(g.Body, match),
        _ => false,
    });
}
