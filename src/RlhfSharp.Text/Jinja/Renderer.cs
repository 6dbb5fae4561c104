namespace RlhfSharp.Text.Jinja;

/// <summary>
/// Runs a parsed template: statements here, expressions in <c>Renderer.Expressions.cs</c>.
/// Value failures (<see cref="PyException"/>) become <see cref="JinjaTemplateException"/>s
/// naming the template and the line being run.
/// </summary>
internal sealed partial class Renderer
{
    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private readonly string _name;
    private readonly OutputWriter _root = new();
    private readonly List<(int Start, int End)> _generation = [];
    private int _line = 1;
    private int _calls;

    /// <summary>How deep macro calls may nest (Python stops runaway recursion too).</summary>
    private const int MaxCallDepth = 100;

    private Renderer(string name) => _name = name;

    public static (OutputWriter Output, IReadOnlyList<(int Start, int End)> Generation) Run(
        string name, IReadOnlyList<Stmt> body, Scope globals)
    {
        var r = new Renderer(name);
        try
        {
            r.Exec(body, new Scope(globals), r._root);
        }
        catch (PyException e)
        {
            throw new JinjaTemplateException(name, r._line, e.Kind, e.Message, e);
        }
        return (r._root, r._generation);
    }

    private Flow Exec(IReadOnlyList<Stmt> body, Scope scope, OutputWriter w)
    {
        foreach (var stmt in body)
        {
            _line = stmt.Line;
            var flow = Exec(stmt, scope, w);
            if (flow != Flow.Normal) return flow;
        }
        return Flow.Normal;
    }

    private Flow Exec(Stmt stmt, Scope scope, OutputWriter w)
    {
        switch (stmt)
        {
            case DataStmt d:
                w.Write(d.Text);
                return Flow.Normal;
            case OutputStmt o:
                w.Write(Py.Str(Eval(o.Value, scope)));
                return Flow.Normal;
            case IfStmt i:
                foreach (var (test, branch) in i.Branches)
                    if (Py.Truthy(Eval(test, scope))) return Exec(branch, scope, w);
                return Exec(i.Else, scope, w);
            case ForStmt f:
                ExecFor(f, scope, w);
                return Flow.Normal;
            case SetStmt s:
                Assign(s.Target, Eval(s.Value, scope), scope);
                return Flow.Normal;
            case SetBlockStmt sb:
                scope.Set(sb.Name, ApplyFilters(sb.Filters, Capture(sb.Body, scope), scope));
                return Flow.Normal;
            case FilterBlockStmt fb:
                w.Write(Py.Str(ApplyFilters(fb.Filters, Capture(fb.Body, scope), scope)));
                return Flow.Normal;
            case MacroStmt m:
                scope.Set(m.Name, MakeMacro(m.Name, m.Parameters, m.Body, scope));
                return Flow.Normal;
            case CallBlockStmt c:
                var caller = MakeMacro("caller", c.Parameters, c.Body, scope);
                var target = Eval(c.Call.Target, scope);
                var (args, kwargs) = EvalArgs(c.Call.Args, scope);
                w.Write(Py.Str(Invoke(target, args, [.. kwargs, ("caller", caller)])));
                return Flow.Normal;
            case GenerationStmt g:
                int start = w.Length;
                var flow = Exec(g.Body, scope, w);
                if (ReferenceEquals(w, _root)) _generation.Add((start, w.Length));
                return flow;
            case BreakStmt:
                return Flow.Break;
            case ContinueStmt:
                return Flow.Continue;
            default:
                throw new InvalidOperationException($"unknown statement {stmt.GetType().Name}");
        }
    }

    private PyStr Capture(IReadOnlyList<Stmt> body, Scope scope)
    {
        var w = new OutputWriter();
        Exec(body, scope, w);
        return w.ToPyStr();
    }

    private object? ApplyFilters(IReadOnlyList<FilterExpr> filters, object? value, Scope scope)
    {
        foreach (var f in filters)
        {
            var (args, kwargs) = EvalArgs(f.Args, scope);
            value = Filters.Apply(f.Name, value, new CallArgs(f.Name, args, kwargs));
        }
        return value;
    }

    private void ExecFor(ForStmt f, Scope scope, OutputWriter w)
    {
        var source = Eval(f.Iterable, scope);
        if (source is Undefined { Kind: not JinjaErrorKind.Undefined } bad) throw bad.Fail();
        var items = Py.Iterate(source);
        if (f.Filter is not null)
        {
            var kept = new List<object?>();
            foreach (var item in items)
            {
                var s = new Scope(scope);
                Assign(f.Target, item, s);
                if (Py.Truthy(Eval(f.Filter, s))) kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            Exec(f.Else, scope, w);
            return;
        }
        var loop = new LoopContext(items);
        for (int i = 0; i < items.Count; i++)
        {
            loop.Index0 = i;
            var s = new Scope(scope);
            s.Set("loop", loop);
            Assign(f.Target, items[i], s);
            if (Exec(f.Body, s, w) == Flow.Break) break;
        }
    }

    private void Assign(Expr target, object? value, Scope scope)
    {
        switch (target)
        {
            case NameExpr n:
                scope.Set(n.Name, value);
                break;
            case ListExpr t:
                if (value is not (PyList or PyStr or PyDict or Undefined))
                    throw PyException.Type($"cannot unpack non-iterable {Py.TypeName(value)} object");
                var items = Py.Iterate(value);
                if (items.Count != t.Items.Count)
                    throw PyException.Type(items.Count > t.Items.Count
                        ? $"too many values to unpack (expected {t.Items.Count})"
                        : $"not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                for (int i = 0; i < items.Count; i++) Assign(t.Items[i], items[i], scope);
                break;
            case GetAttrExpr a:
                var obj = Eval(a.Target, scope);
                if (obj is not PyNamespace ns) throw new PyException(JinjaErrorKind.Security, "cannot assign attribute on non-namespace object");
                ns.Attributes[a.Name] = value;
                break;
            default:
                throw PyException.Type("cannot assign to this expression");
        }
    }

    private PyCallable MakeMacro(string name, IReadOnlyList<(string Name, Expr? Default)> parameters, IReadOnlyList<Stmt> body, Scope defining)
        => new(name, (args, kwargs) =>
        {
            if (args.Count > parameters.Count) throw PyException.Type($"macro '{name}' takes not more than {parameters.Count} argument(s)");
            var s = new Scope(defining);
            for (int i = 0; i < parameters.Count; i++)
            {
                var (pname, def) = parameters[i];
                object? value;
                if (i < args.Count) value = args[i];
                else if (kwargs.Any(k => k.Name == pname)) value = kwargs.First(k => k.Name == pname).Value;
                else value = def is null ? Undefined.Named(pname) : Eval(def, s);
                s.Set(pname, value);
            }
            foreach (var (k, v) in kwargs)
            {
                if (k == "caller") s.Set("caller", v);
                else if (!parameters.Any(p => p.Name == k)) throw PyException.Type($"macro '{name}' takes no keyword argument '{k}'");
            }
            int line = _line;
            if (++_calls > MaxCallDepth)
                throw PyException.Type($"maximum recursion depth exceeded: macro calls nest more than {MaxCallDepth} deep (in '{name}')");
            try
            {
                var w = new OutputWriter();
                Exec(body, s, w);
                return w.ToPyStr();
            }
            finally
            {
                _calls--;
                _line = line;
            }
        });
}
