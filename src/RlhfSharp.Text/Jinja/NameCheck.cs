namespace RlhfSharp.Text.Jinja;

/// <summary>
/// jinja2's compile-time check for filter and test names: an unknown name is a syntax error,
/// except inside an if statement (its test and bodies) or a conditional expression, where it
/// fails only if that code runs; loops, macros, call, set and filter blocks inside them are
/// checked strictly again, as jinja2's inner frames are.
/// </summary>
internal static class NameCheck
{
    public static void Check(string templateName, IReadOnlyList<Stmt> body) => Statements(templateName, body, soft: false);

    private static void Statements(string t, IReadOnlyList<Stmt> body, bool soft)
    {
        foreach (var s in body) Statement(t, s, soft);
    }

    private static void Statement(string t, Stmt s, bool soft)
    {
        switch (s)
        {
            case OutputStmt o: Expression(t, o.Value, soft); break;
            case IfStmt i:
                foreach (var (test, branch) in i.Branches)
                {
                    Expression(t, test, true);
                    Statements(t, branch, true);
                }
                Statements(t, i.Else, true);
                break;
            case ForStmt f:
                Expression(t, f.Iterable, soft);
                if (f.Filter is not null) Expression(t, f.Filter, false);
                Statements(t, f.Body, false);
                Statements(t, f.Else, false);
                break;
            case SetStmt set: Expression(t, set.Value, soft); break;
            case SetBlockStmt sb:
                Statements(t, sb.Body, false);
                foreach (var f in sb.Filters) Expression(t, f, false);
                break;
            case MacroStmt m:
                foreach (var (_, def) in m.Parameters) if (def is not null) Expression(t, def, false);
                Statements(t, m.Body, false);
                break;
            case CallBlockStmt c:
                Expression(t, c.Call, soft);
                Statements(t, c.Body, false);
                break;
            case FilterBlockStmt fb:
                foreach (var f in fb.Filters) Expression(t, f, false);
                Statements(t, fb.Body, false);
                break;
            case GenerationStmt g: Statements(t, g.Body, false); break;
        }
    }

    private static void Expression(string t, Expr e, bool soft)
    {
        switch (e)
        {
            case FilterExpr f:
                if (!soft && !Filters.Exists(f.Name)) throw new JinjaTemplateException(t, f.Line, JinjaErrorKind.Syntax, $"no filter named '{f.Name}'");
                Expression(t, f.Target, soft);
                Arguments(t, f.Args, soft);
                break;
            case TestExpr x:
                if (!soft && !Tests.Exists(x.Name)) throw new JinjaTemplateException(t, x.Line, JinjaErrorKind.Syntax, $"no test named '{x.Name}'");
                Expression(t, x.Target, soft);
                Arguments(t, x.Args, soft);
                break;
            case CondExpr c:
                Expression(t, c.Then, true);
                Expression(t, c.Test, true);
                if (c.Else is not null) Expression(t, c.Else, true);
                break;
            case ListExpr l: foreach (var i in l.Items) Expression(t, i, soft); break;
            case DictExpr d:
                foreach (var (k, v) in d.Pairs)
                {
                    Expression(t, k, soft);
                    Expression(t, v, soft);
                }
                break;
            case GetAttrExpr a: Expression(t, a.Target, soft); break;
            case GetItemExpr g:
                Expression(t, g.Target, soft);
                Expression(t, g.Key, soft);
                break;
            case SliceExpr s:
                foreach (var part in new[] { s.Start, s.Stop, s.Step }) if (part is not null) Expression(t, part, soft);
                break;
            case CallExpr call:
                Expression(t, call.Target, soft);
                Arguments(t, call.Args, soft);
                break;
            case BinaryExpr b:
                Expression(t, b.Left, soft);
                Expression(t, b.Right, soft);
                break;
            case UnaryExpr u: Expression(t, u.Operand, soft); break;
            case CompareExpr cmp:
                Expression(t, cmp.First, soft);
                foreach (var (_, r) in cmp.Rest) Expression(t, r, soft);
                break;
        }
    }

    private static void Arguments(string t, Arguments a, bool soft)
    {
        foreach (var p in a.Positional) Expression(t, p, soft);
        foreach (var (_, v) in a.Keyword) Expression(t, v, soft);
    }
}
