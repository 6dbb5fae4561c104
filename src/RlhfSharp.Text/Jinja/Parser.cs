namespace RlhfSharp.Text.Jinja;

/// <summary>
/// Builds the syntax tree from tokens: the statements here, expressions in
/// <c>Parser.Expressions.cs</c>. Errors read like jinja2's and name the line and what was expected.
/// </summary>
internal sealed partial class Parser
{
    private readonly string _name;
    private readonly List<Token> _tokens;
    private readonly Stack<(string Tag, int Line)> _open = new();

    /// <summary>How deep block tags may nest before the template is refused (the parser and renderer recurse per level).</summary>
    private const int MaxBlockNesting = 100;
    private int _i;

    private Parser(string name, List<Token> tokens)
    {
        _name = name;
        _tokens = tokens;
    }

    public static IReadOnlyList<Stmt> Parse(string name, string source)
    {
        var parser = new Parser(name, Lexer.Tokenize(name, source));
        var body = parser.Subparse([]);
        if (parser.Current.Kind != TokenKind.End) throw parser.Error(parser.Current, $"unexpected {parser.Current.Describe()}");
        NameCheck.Check(name, body);
        return body;
    }

    private Token Current => _tokens[_i];

    private Token Peek(int k = 1) => _tokens[Math.Min(_i + k, _tokens.Count - 1)];

    private Token Next() => _tokens[_i < _tokens.Count - 1 ? _i++ : _i];

    private JinjaTemplateException Error(Token at, string problem) => new(_name, at.Line, JinjaErrorKind.Syntax, problem);

    private Token Expect(TokenKind kind, string? value = null)
    {
        var t = Current;
        if (t.Kind != kind || (value is not null && t.Value != value))
        {
            string wanted = value is not null ? $"'{value}'" : kind switch
            {
                TokenKind.Name => "a name",
                TokenKind.BlockEnd => "end of statement block '%}'",
                TokenKind.VariableEnd => "end of print statement '}}'",
                _ => kind.ToString(),
            };
            if (t.Kind == TokenKind.End) throw UnexpectedEnd();
            throw Error(t, $"expected {wanted}, got {t.Describe()}");
        }
        return Next();
    }

    private bool SkipIf(TokenKind kind, string value)
    {
        if (!Current.Is(kind, value)) return false;
        Next();
        return true;
    }

    private JinjaTemplateException UnexpectedEnd(IReadOnlyCollection<string>? looking = null)
    {
        string problem = "unexpected end of template.";
        if (looking is { Count: > 0 })
            problem += $" Jinja was looking for the following tags: {string.Join(" or ", looking.Select(t => $"'{t}'"))}.";
        if (_open.Count > 0)
            problem += $" The innermost block that needs to be closed is '{_open.Peek().Tag}' (opened on line {_open.Peek().Line}).";
        return Error(Current, problem);
    }

    /// <summary>Statements until a block tag named in <paramref name="endTags"/>; the stream stops on that tag's name.</summary>
    private List<Stmt> Subparse(IReadOnlyCollection<string> endTags)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.Data:
                    Next();
                    body.Add(new DataStmt(t.Line, t.Value));
                    break;
                case TokenKind.VariableBegin:
                    Next();
                    body.Add(new OutputStmt(t.Line, ParseTuple(withCondExpr: true)));
                    Expect(TokenKind.VariableEnd);
                    break;
                case TokenKind.BlockBegin:
                    Next();
                    if (Current.Kind == TokenKind.Name && endTags.Contains(Current.Value)) return body;
                    body.Add(ParseStatement());
                    break;
                case TokenKind.End:
                    if (endTags.Count > 0) throw UnexpectedEnd(endTags);
                    return body;
                default:
                    throw Error(t, $"unexpected {t.Describe()}");
            }
        }
    }

    private Stmt ParseStatement()
    {
        var t = Current;
        if (t.Kind != TokenKind.Name) throw Error(t, $"tag name expected, got {t.Describe()}");
        if (_open.Count >= MaxBlockNesting) throw Error(t, $"blocks nest more than {MaxBlockNesting} deep");
        _open.Push((t.Value, t.Line));
        try
        {
            switch (t.Value)
            {
                case "for": return ParseFor();
                case "if": return ParseIf();
                case "set": return ParseSet();
                case "macro": return ParseMacro();
                case "call": return ParseCallBlock();
                case "filter": return ParseFilterBlock();
                case "generation": return ParseGeneration();
                case "break":
                case "continue":
                    Next();
                    if (!_open.Skip(1).Any(o => o.Tag == "for"))
                        throw Error(t, $"'{t.Value}' outside of a for loop");
                    Expect(TokenKind.BlockEnd);
                    return t.Value == "break" ? new BreakStmt(t.Line) : new ContinueStmt(t.Line);
            }
            if (t.Value.StartsWith("end", StringComparison.Ordinal) || t.Value is "else" or "elif")
            {
                string hint = _open.Count > 1 ? $" The innermost block that needs to be closed is '{_open.Skip(1).First().Tag}'." : "";
                throw Error(t, $"encountered unknown tag '{t.Value}'.{hint}");
            }
            throw Error(t, $"encountered unknown tag '{t.Value}'; this engine knows for, if, set, macro, call, filter, generation, break and continue");
        }
        finally
        {
            _open.Pop();
        }
    }

    private List<Stmt> Body(params string[] endTags) => Subparse(endTags);

    private void EndTag(string name)
    {
        Expect(TokenKind.Name, name);
        Expect(TokenKind.BlockEnd);
    }

    private ForStmt ParseFor()
    {
        int line = Expect(TokenKind.Name, "for").Line;
        var target = ParseAssignTarget(allowAttribute: false);
        Expect(TokenKind.Name, "in");
        var iterable = ParseTuple(withCondExpr: false, extraEnd: ["recursive"]);
        Expr? filter = null;
        if (SkipIf(TokenKind.Name, "if")) filter = ParseExpression();
        if (Current.IsName("recursive")) throw Error(Current, "recursive loops are not supported");
        Expect(TokenKind.BlockEnd);
        var body = Body("endfor", "else");
        List<Stmt> elseBody = [];
        if (Next().Value == "else")
        {
            Expect(TokenKind.BlockEnd);
            elseBody = Body("endfor");
            Next();
        }
        Expect(TokenKind.BlockEnd);
        return new ForStmt(line, target, iterable, filter, body, elseBody);
    }

    private IfStmt ParseIf()
    {
        int line = Expect(TokenKind.Name, "if").Line;
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        List<Stmt> elseBody = [];
        while (true)
        {
            var test = ParseTuple(withCondExpr: false);
            Expect(TokenKind.BlockEnd);
            var body = Body("elif", "else", "endif");
            branches.Add((test, body));
            string tag = Next().Value;
            if (tag == "elif") continue;
            if (tag == "else")
            {
                Expect(TokenKind.BlockEnd);
                elseBody = Body("endif");
                Next();
            }
            Expect(TokenKind.BlockEnd);
            return new IfStmt(line, branches, elseBody);
        }
    }

    private Stmt ParseSet()
    {
        int line = Expect(TokenKind.Name, "set").Line;
        var target = ParseAssignTarget(allowAttribute: true);
        if (SkipIf(TokenKind.Operator, "="))
        {
            var value = ParseTuple(withCondExpr: true);
            Expect(TokenKind.BlockEnd);
            return new SetStmt(line, target, value);
        }
        if (target is not NameExpr name) throw Error(Current, $"expected '=', got {Current.Describe()}");
        var filters = new List<FilterExpr>();
        while (Current.IsOp("|")) filters.Add(ParseFilterCall(new ConstExpr(line, null)));
        Expect(TokenKind.BlockEnd);
        var body = Body("endset");
        EndTag("endset");
        return new SetBlockStmt(line, name.Name, body, filters);
    }

    private MacroStmt ParseMacro()
    {
        int line = Expect(TokenKind.Name, "macro").Line;
        string name = Expect(TokenKind.Name).Value;
        var parameters = ParseSignature();
        Expect(TokenKind.BlockEnd);
        var body = Body("endmacro");
        EndTag("endmacro");
        return new MacroStmt(line, name, parameters, body);
    }

    private List<(string, Expr?)> ParseSignature()
    {
        var parameters = new List<(string, Expr?)>();
        Expect(TokenKind.Operator, "(");
        while (!Current.IsOp(")"))
        {
            if (parameters.Count > 0) Expect(TokenKind.Operator, ",");
            if (Current.IsOp(")")) break;
            var p = Expect(TokenKind.Name);
            Expr? def = SkipIf(TokenKind.Operator, "=") ? ParseExpression() : null;
            if (def is null && parameters.Any(q => q.Item2 is not null))
                throw Error(p, $"parameter '{p.Value}' without a default follows parameters with defaults");
            parameters.Add((p.Value, def));
        }
        Next();
        return parameters;
    }

    private CallBlockStmt ParseCallBlock()
    {
        int line = Expect(TokenKind.Name, "call").Line;
        var parameters = Current.IsOp("(") ? ParseSignature() : [];
        var call = ParseExpression();
        if (call is not CallExpr c) throw Error(Current, "expected a call, as in {% call macro_name(args) %}");
        Expect(TokenKind.BlockEnd);
        var body = Body("endcall");
        EndTag("endcall");
        return new CallBlockStmt(line, c, parameters, body);
    }

    private FilterBlockStmt ParseFilterBlock()
    {
        int line = Expect(TokenKind.Name, "filter").Line;
        var filters = new List<FilterExpr> { ParseFilterName(new ConstExpr(line, null)) };
        while (Current.IsOp("|")) filters.Add(ParseFilterCall(new ConstExpr(line, null)));
        Expect(TokenKind.BlockEnd);
        var body = Body("endfilter");
        EndTag("endfilter");
        return new FilterBlockStmt(line, filters, body);
    }

    private GenerationStmt ParseGeneration()
    {
        int line = Expect(TokenKind.Name, "generation").Line;
        Expect(TokenKind.BlockEnd);
        var body = Body("endgeneration");
        EndTag("endgeneration");
        return new GenerationStmt(line, body);
    }
}
