namespace RlhfSharp.Text.Jinja;

internal sealed partial class Renderer
{
    private object? Eval(Expr e, Scope scope)
    {
        switch (e)
        {
            case ConstExpr c:
                return c.Value;
            case NameExpr n:
                return scope.TryGet(n.Name, out var v) ? v : Undefined.Named(n.Name);
            case ListExpr l:
                return new PyList([.. l.Items.Select(x => Eval(x, scope))], l.IsTuple);
            case DictExpr d:
                var dict = new PyDict();
                foreach (var (k, val) in d.Pairs) dict.Set(Hashable(Eval(k, scope)), Eval(val, scope));
                return dict;
            case GetAttrExpr a:
                return Access.GetAttr(Eval(a.Target, scope), a.Name);
            case GetItemExpr g:
                var target = Eval(g.Target, scope);
                if (g.Key is SliceExpr s)
                    return Access.Slice(target, Opt(s.Start, scope), Opt(s.Stop, scope), Opt(s.Step, scope));
                return Access.GetItem(target, Eval(g.Key, scope));
            case CallExpr call:
                var fn = Eval(call.Target, scope);
                var (args, kwargs) = EvalArgs(call.Args, scope);
                return Invoke(fn, args, kwargs);
            case FilterExpr f:
                var (fargs, fkwargs) = EvalArgs(f.Args, scope);
                return Filters.Apply(f.Name, Eval(f.Target, scope), new CallArgs(f.Name, fargs, fkwargs));
            case TestExpr t:
                var (targs, tkwargs) = EvalArgs(t.Args, scope);
                return Tests.Apply(t.Name, Eval(t.Target, scope), new CallArgs(t.Name, targs, tkwargs));
            case BinaryExpr { Op: "and" } b:
                var left = Eval(b.Left, scope);
                return Py.Truthy(left) ? Eval(b.Right, scope) : left;
            case BinaryExpr { Op: "or" } b:
                var first = Eval(b.Left, scope);
                return Py.Truthy(first) ? first : Eval(b.Right, scope);
            case BinaryExpr b:
                return PyOps.Binary(b.Op, Eval(b.Left, scope), Eval(b.Right, scope));
            case UnaryExpr u:
                return Unary(u.Op, Eval(u.Operand, scope));
            case CompareExpr c:
                return Compare(c, scope);
            case CondExpr c:
                if (Py.Truthy(Eval(c.Test, scope))) return Eval(c.Then, scope);
                return c.Else is null
                    ? new Undefined($"the inline if-expression on line {c.Line} evaluated to false and no else section was defined.")
                    : Eval(c.Else, scope);
            default:
                throw new InvalidOperationException($"unknown expression {e.GetType().Name}");
        }
    }

    private object? Opt(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    private static object? Hashable(object? key) => key is PyList { IsTuple: false } or PyDict
        ? throw PyException.Type($"unhashable type: '{Py.TypeName(key)}'")
        : key;

    private (List<object?> Args, List<(string Name, object? Value)> Kwargs) EvalArgs(Arguments a, Scope scope)
    {
        var args = a.Positional.Select(x => Eval(x, scope)).ToList();
        var kwargs = a.Keyword.Select(k => (k.Name, Eval(k.Value, scope))).ToList();
        return (args, kwargs);
    }

    private static object? Invoke(object? fn, IReadOnlyList<object?> args, IReadOnlyList<(string Name, object? Value)> kwargs) => fn switch
    {
        PyCallable c => c.Invoke(args, kwargs),
        Undefined u => throw u.Fail(),
        _ => throw PyException.Type($"'{Py.TypeName(fn)}' object is not callable"),
    };

    private static object? Unary(string op, object? v)
    {
        if (op == "not") return !Py.Truthy(v);
        return v switch
        {
            long l => (object)(op == "-" ? -l : l),
            double d => op == "-" ? -d : d,
            bool b => (object)(op == "-" ? -(b ? 1L : 0L) : (b ? 1L : 0L)),
            Undefined u => throw u.Fail(),
            _ => throw PyException.Type($"bad operand type for unary {op}: '{Py.TypeName(v)}'"),
        };
    }

    private bool Compare(CompareExpr c, Scope scope)
    {
        var left = Eval(c.First, scope);
        foreach (var (op, rightExpr) in c.Rest)
        {
            var right = Eval(rightExpr, scope);
            bool ok = op switch
            {
                "==" => PyOps.Eq(left, right),
                "!=" => !PyOps.Eq(left, right),
                "<" => PyOps.Compare(left, right, op) < 0,
                ">" => PyOps.Compare(left, right, op) > 0,
                "<=" => PyOps.Compare(left, right, op) <= 0,
                ">=" => PyOps.Compare(left, right, op) >= 0,
                "in" => PyOps.Contains(right, left),
                "notin" => !PyOps.Contains(right, left),
                _ => throw new InvalidOperationException(op),
            };
            if (!ok) return false;
            left = right;
        }
        return true;
    }
}
