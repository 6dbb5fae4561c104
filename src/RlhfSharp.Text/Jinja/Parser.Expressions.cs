using System.Globalization;

namespace RlhfSharp.Text.Jinja;

/// <summary>Expressions, with jinja2's precedence: conditional, or, and, not, comparisons, + -, ~, * / // %, **, unary, postfix, filters and tests.</summary>
internal sealed partial class Parser
{
    private Expr ParseExpression(bool withCondExpr = true) => withCondExpr ? ParseCondExpr() : ParseOr();

    /// <summary>An expression, or a tuple when commas follow (<c>{% set a, b = 1, 2 %}</c>).</summary>
    private Expr ParseTuple(bool withCondExpr, IReadOnlyCollection<string>? extraEnd = null)
    {
        int line = Current.Line;
        var items = new List<Expr>();
        bool comma = false;
        while (true)
        {
            if (items.Count > 0) Expect(TokenKind.Operator, ",");
            if (IsTupleEnd(extraEnd)) break;
            items.Add(ParseExpression(withCondExpr));
            if (Current.IsOp(",")) comma = true;
            else break;
        }
        if (!comma)
        {
            if (items.Count == 0) throw Error(Current, $"expected an expression, got {Current.Describe()}");
            return items[0];
        }
        return new ListExpr(line, items, IsTuple: true);
    }

    private bool IsTupleEnd(IReadOnlyCollection<string>? extraEnd) =>
        Current.Kind is TokenKind.VariableEnd or TokenKind.BlockEnd or TokenKind.End
        || Current.IsOp(")") || Current.IsOp("=")
        || (Current.Kind == TokenKind.Name && (Current.Value == "in" || (extraEnd?.Contains(Current.Value) ?? false)));

    private Expr ParseAssignTarget(bool allowAttribute)
    {
        int line = Current.Line;
        var names = new List<Expr>();
        do
        {
            var n = Expect(TokenKind.Name);
            if (allowAttribute && names.Count == 0 && Current.IsOp("."))
            {
                Next();
                return new GetAttrExpr(line, new NameExpr(n.Line, n.Value), Expect(TokenKind.Name).Value);
            }
            if (n.Value is "true" or "false" or "none" or "True" or "False" or "None")
                throw Error(n, $"cannot assign to '{n.Value}'");
            names.Add(new NameExpr(n.Line, n.Value));
        }
        while (SkipIf(TokenKind.Operator, ","));
        return names.Count == 1 ? names[0] : new ListExpr(line, names, IsTuple: true);
    }

    private Expr ParseCondExpr()
    {
        var expr = ParseOr();
        while (Current.IsName("if"))
        {
            int line = Next().Line;
            var test = ParseOr();
            Expr? otherwise = SkipIf(TokenKind.Name, "else") ? ParseCondExpr() : null;
            expr = new CondExpr(line, test, expr, otherwise);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or")) left = new BinaryExpr(Next().Line, "or", left, ParseAnd());
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and")) left = new BinaryExpr(Next().Line, "and", left, ParseNot());
        return left;
    }

    private Expr ParseNot() => Current.IsName("not") ? new UnaryExpr(Next().Line, "not", ParseNot()) : ParseCompare();

    private static readonly HashSet<string> CompareOps = ["==", "!=", "<", ">", "<=", ">="];

    private Expr ParseCompare()
    {
        int line = Current.Line;
        var first = ParseMath1();
        var rest = new List<(string, Expr)>();
        while (true)
        {
            if (Current.Kind == TokenKind.Operator && CompareOps.Contains(Current.Value)) rest.Add((Next().Value, ParseMath1()));
            else if (SkipIf(TokenKind.Name, "in")) rest.Add(("in", ParseMath1()));
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                Next();
                Next();
                rest.Add(("notin", ParseMath1()));
            }
            else break;
        }
        return rest.Count == 0 ? first : new CompareExpr(line, first, rest);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOp("+") || Current.IsOp("-")) { var op = Next(); left = new BinaryExpr(op.Line, op.Value, left, ParseConcat()); }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOp("~")) left = new BinaryExpr(Next().Line, "~", left, ParseMath2());
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Value is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new BinaryExpr(op.Line, op.Value, left, ParsePow());
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary();
        while (Current.IsOp("**")) left = new BinaryExpr(Next().Line, "**", left, ParseUnary());
        return left;
    }

    /// <summary>How deep expressions may nest (parentheses, brackets, unary operators) before the template is refused.</summary>
    private const int MaxNesting = 200;

    private int _nesting;

    private Expr ParseUnary(bool withFilter = true)
    {
        if (++_nesting > MaxNesting) throw Error(Current, $"expressions nest more than {MaxNesting} deep");
        try
        {
            return ParseUnaryCore(withFilter);
        }
        finally
        {
            _nesting--;
        }
    }

    private Expr ParseUnaryCore(bool withFilter)
    {
        Expr node;
        if (Current.IsOp("-") || Current.IsOp("+"))
        {
            var op = Next();
            node = new UnaryExpr(op.Line, op.Value, ParseUnary(withFilter: false));
        }
        else node = ParsePostfix(ParsePrimary());
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Current;
        switch (t.Kind)
        {
            case TokenKind.Name:
                Next();
                return t.Value switch
                {
                    "true" or "True" => new ConstExpr(t.Line, true),
                    "false" or "False" => new ConstExpr(t.Line, false),
                    "none" or "None" => new ConstExpr(t.Line, null),
                    _ => new NameExpr(t.Line, t.Value),
                };
            case TokenKind.String:
                Next();
                string s = t.Value;
                while (Current.Kind == TokenKind.String) s += Next().Value;
                return new ConstExpr(t.Line, new PyStr(s));
            case TokenKind.Integer:
                Next();
                if (!long.TryParse(t.Value, NumberStyles.None, CultureInfo.InvariantCulture, out long l))
                    throw Error(t, $"integer literal {t.Value} is too large");
                return new ConstExpr(t.Line, l);
            case TokenKind.Float:
                Next();
                return new ConstExpr(t.Line, double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture));
            case TokenKind.Operator when t.Value == "(":
                Next();
                var inner = ParseTuple(withCondExpr: true);
                if (inner is ListExpr { IsTuple: true } && Current.IsOp(")")) { }
                Expect(TokenKind.Operator, ")");
                return inner;
            case TokenKind.Operator when t.Value == "[":
                Next();
                var items = new List<Expr>();
                while (!Current.IsOp("]"))
                {
                    if (items.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOp("]")) break;
                    items.Add(ParseExpression());
                }
                Next();
                return new ListExpr(t.Line, items, IsTuple: false);
            case TokenKind.Operator when t.Value == "{":
                Next();
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOp("}"))
                {
                    if (pairs.Count > 0) Expect(TokenKind.Operator, ",");
                    if (Current.IsOp("}")) break;
                    var key = ParseExpression();
                    Expect(TokenKind.Operator, ":");
                    pairs.Add((key, ParseExpression()));
                }
                Next();
                return new DictExpr(t.Line, pairs);
            case TokenKind.End:
                throw UnexpectedEnd();
            default:
                throw Error(t, $"unexpected {t.Describe()}");
        }
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            var t = Current;
            if (t.IsOp("."))
            {
                Next();
                var attr = Next();
                if (attr.Kind == TokenKind.Name) node = new GetAttrExpr(t.Line, node, attr.Value);
                else if (attr.Kind == TokenKind.Integer) node = new GetItemExpr(t.Line, node, new ConstExpr(t.Line, long.Parse(attr.Value, CultureInfo.InvariantCulture)));
                else throw Error(attr, $"expected a name after '.', got {attr.Describe()}");
            }
            else if (t.IsOp("["))
            {
                Next();
                var key = ParseSubscript();
                Expect(TokenKind.Operator, "]");
                node = new GetItemExpr(t.Line, node, key);
            }
            else if (t.IsOp("(")) node = new CallExpr(t.Line, node, ParseCallArgs());
            else return node;
        }
    }

    private Expr ParseSubscript()
    {
        int line = Current.Line;
        Expr? start = null;
        if (!Current.IsOp(":"))
        {
            start = ParseExpression();
            if (!Current.IsOp(":")) return start;
        }
        Next();
        Expr? stop = Current.IsOp("]") || Current.IsOp(":") ? null : ParseExpression();
        Expr? step = null;
        if (SkipIf(TokenKind.Operator, ":") && !Current.IsOp("]")) step = ParseExpression();
        return new SliceExpr(line, start, stop, step);
    }

    private Arguments ParseCallArgs()
    {
        Expect(TokenKind.Operator, "(");
        var positional = new List<Expr>();
        var keyword = new List<(string, Expr)>();
        while (!Current.IsOp(")"))
        {
            if (positional.Count + keyword.Count > 0) Expect(TokenKind.Operator, ",");
            if (Current.IsOp(")")) break;
            if (Current.IsOp("*") || Current.IsOp("**")) throw Error(Current, "*args and **kwargs in calls are not supported");
            if (Current.Kind == TokenKind.Name && Peek().IsOp("="))
            {
                string key = Next().Value;
                Next();
                keyword.Add((key, ParseExpression()));
            }
            else
            {
                if (keyword.Count > 0) throw Error(Current, "positional argument follows keyword argument");
                positional.Add(ParseExpression());
            }
        }
        Next();
        return new Arguments(positional, keyword);
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Current.IsOp("|")) node = ParseFilterCall(node);
            else if (Current.IsName("is")) node = ParseTest(node);
            else if (Current.IsOp("(")) node = new CallExpr(Current.Line, node, ParseCallArgs());
            else return node;
        }
    }

    private FilterExpr ParseFilterCall(Expr node)
    {
        Expect(TokenKind.Operator, "|");
        return ParseFilterName(node);
    }

    private FilterExpr ParseFilterName(Expr node)
    {
        var name = Expect(TokenKind.Name);
        var args = Current.IsOp("(") ? ParseCallArgs() : Arguments.None;
        return new FilterExpr(name.Line, node, name.Value, args);
    }

    private Expr ParseTest(Expr node)
    {
        int line = Expect(TokenKind.Name, "is").Line;
        bool negated = SkipIf(TokenKind.Name, "not");
        var name = Expect(TokenKind.Name);
        var args = Arguments.None;
        if (Current.IsOp("(")) args = ParseCallArgs();
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || Current.IsOp("(") || Current.IsOp("[") || Current.IsOp("{"))
                 && !(Current.IsName("else") || Current.IsName("or") || Current.IsName("and")))
        {
            if (Current.IsName("is")) throw Error(Current, "you cannot chain multiple tests with is");
            args = new Arguments([ParsePostfix(ParsePrimary())], []);
        }
        Expr test = new TestExpr(line, node, name.Value, args);
        return negated ? new UnaryExpr(line, "not", test) : test;
    }
}
