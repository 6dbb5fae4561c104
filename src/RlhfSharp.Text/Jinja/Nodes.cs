namespace RlhfSharp.Text.Jinja;

/// <summary>A node of the template's syntax tree; <see cref="Line"/> is where it starts.</summary>
internal abstract record Node(int Line);

// ---- expressions ----

internal abstract record Expr(int Line) : Node(Line);

internal sealed record ConstExpr(int Line, object? Value) : Expr(Line);

internal sealed record NameExpr(int Line, string Name) : Expr(Line);

/// <summary>A list (<c>[a, b]</c>) or tuple (<c>(a, b)</c>, or bare <c>a, b</c>) display.</summary>
internal sealed record ListExpr(int Line, IReadOnlyList<Expr> Items, bool IsTuple) : Expr(Line);

internal sealed record DictExpr(int Line, IReadOnlyList<(Expr Key, Expr Value)> Pairs) : Expr(Line);

/// <summary><c>obj.name</c> (attribute first, then item) or <c>obj[key]</c> (item first, then attribute).</summary>
internal sealed record GetAttrExpr(int Line, Expr Target, string Name) : Expr(Line);

internal sealed record GetItemExpr(int Line, Expr Target, Expr Key) : Expr(Line);

internal sealed record SliceExpr(int Line, Expr? Start, Expr? Stop, Expr? Step) : Expr(Line);

internal sealed record Arguments(IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Keyword)
{
    public static Arguments None { get; } = new([], []);
}

internal sealed record CallExpr(int Line, Expr Target, Arguments Args) : Expr(Line);

internal sealed record FilterExpr(int Line, Expr Target, string Name, Arguments Args) : Expr(Line);

internal sealed record TestExpr(int Line, Expr Target, string Name, Arguments Args) : Expr(Line);

/// <summary>Binary operator: + - * / // % ** ~ and/or.</summary>
internal sealed record BinaryExpr(int Line, string Op, Expr Left, Expr Right) : Expr(Line);

/// <summary>Unary operator: not, -, +.</summary>
internal sealed record UnaryExpr(int Line, string Op, Expr Operand) : Expr(Line);

/// <summary>A chain of comparisons: <c>a &lt; b == c</c>, <c>a in b</c>, <c>a not in b</c>.</summary>
internal sealed record CompareExpr(int Line, Expr First, IReadOnlyList<(string Op, Expr Right)> Rest) : Expr(Line);

internal sealed record CondExpr(int Line, Expr Test, Expr Then, Expr? Else) : Expr(Line);

// ---- statements ----

internal abstract record Stmt(int Line) : Node(Line);

internal sealed record DataStmt(int Line, string Text) : Stmt(Line);

internal sealed record OutputStmt(int Line, Expr Value) : Stmt(Line);

internal sealed record ForStmt(int Line, Expr Target, Expr Iterable, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt> Else) : Stmt(Line);

internal sealed record IfStmt(int Line, IReadOnlyList<(Expr Test, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt> Else) : Stmt(Line);

/// <summary><c>{% set target = value %}</c>; the target is a name, a tuple of names or <c>ns.attr</c>.</summary>
internal sealed record SetStmt(int Line, Expr Target, Expr Value) : Stmt(Line);

/// <summary><c>{% set name %}body{% endset %}</c>, optionally through filters.</summary>
internal sealed record SetBlockStmt(int Line, string Name, IReadOnlyList<Stmt> Body, IReadOnlyList<FilterExpr> Filters) : Stmt(Line);

internal sealed record MacroStmt(int Line, string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Stmt> Body) : Stmt(Line);

/// <summary><c>{% call(params) macro(args) %}body{% endcall %}</c>: the body is the macro's <c>caller()</c>.</summary>
internal sealed record CallBlockStmt(int Line, CallExpr Call, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Stmt> Body) : Stmt(Line);

/// <summary><c>{% filter f %}body{% endfilter %}</c>; <see cref="Filter"/>'s target is a placeholder for the body.</summary>
internal sealed record FilterBlockStmt(int Line, IReadOnlyList<FilterExpr> Filters, IReadOnlyList<Stmt> Body) : Stmt(Line);

internal sealed record BreakStmt(int Line) : Stmt(Line);

internal sealed record ContinueStmt(int Line) : Stmt(Line);

/// <summary>Hugging Face's <c>{% generation %}...{% endgeneration %}</c>: the text is an assistant turn.</summary>
internal sealed record GenerationStmt(int Line, IReadOnlyList<Stmt> Body) : Stmt(Line);
