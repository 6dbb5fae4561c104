using System.Text.RegularExpressions;

namespace RlhfSharp.Training.Tests;

/// <summary>One source file: its path from the repository root ('/'-separated, "src/&lt;Project&gt;/…") and its text.</summary>
internal sealed record SourceText(string Path, string Text);

/// <summary>Unit <paramref name="From"/> depends on unit <paramref name="To"/> because of what is at File:Line.</summary>
internal sealed record UnitEdge(string From, string To, string FromProject, string ToNamespace, string File, int Line)
{
    public string Where => $"{File}:{Line}";
}

/// <summary>A strongly connected component of more than one unit, with one example edge for each edge inside it.</summary>
internal sealed record DependencyCycle(IReadOnlyList<string> Units, IReadOnlyList<UnitEdge> Edges);

/// <summary>
/// Reads C# sources as text (no compiler): finds each file's namespace, maps namespaces to units
/// (the project's root namespace, or one level below it) and records which units a file uses,
/// through using directives, fully qualified names and names qualified relative to an enclosing
/// namespace. Comments, string and char literals and preprocessor lines are blanked out first.
/// </summary>
internal sealed partial class DependencyScan
{
    private readonly HashSet<string> _namespaces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _types = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SortedSet<string>> _declaredBy = new(StringComparer.Ordinal);
    private readonly List<string> _roots;
    private readonly List<UnitEdge> _edges = [];

    private DependencyScan(IEnumerable<string> roots) =>
        _roots = [.. roots.Distinct().OrderByDescending(r => r.Length).ThenBy(r => r, StringComparer.Ordinal)];

    public IReadOnlyList<UnitEdge> Edges => _edges;

    /// <summary>
    /// Scans <paramref name="files"/>; <paramref name="rootNamespaces"/> maps a project folder name to
    /// its root namespace (a project missing from it has its folder name as root namespace).
    /// </summary>
    public static DependencyScan Analyze(IEnumerable<SourceText> files, IReadOnlyDictionary<string, string>? rootNamespaces = null)
    {
        var parsed = files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(Parse).ToList();
        string RootOf(string project) => rootNamespaces?.GetValueOrDefault(project) ?? project;
        var scan = new DependencyScan(parsed.Select(p => p.Project).Where(p => p.Length > 0).Select(RootOf));
        foreach (var file in parsed)
        {
            foreach (var ns in file.Declared)
            {
                scan.DeclaredBy(ns).Add(file.Project);
                for (var prefix = ns; prefix.Length > 0; prefix = Parent(prefix))
                    scan._namespaces.Add(prefix);
            }
            foreach (Match m in TypeDeclaration().Matches(file.Code))
                scan.TypesIn(file.NamespaceAt(m.Index)).Add(m.Groups["name"].Value);
        }
        foreach (var file in parsed)
            scan.CollectEdges(file, file.Declared.Count > 0 ? scan.UnitOf(file.Declared[0]) : RootOf(file.Project));
        return scan;
    }

    /// <summary>The unit of a namespace: its project's root namespace, or the namespace one level below it.</summary>
    public string UnitOf(string ns)
    {
        foreach (var root in _roots)
        {
            if (ns == root)
                return root;
            if (ns.StartsWith(root + ".", StringComparison.Ordinal))
                return root + "." + ns[(root.Length + 1)..].Split('.')[0];
        }
        return string.Join('.', ns.Split('.').Take(2));
    }

    /// <summary>The projects with a file declaring <paramref name="ns"/> (or, failing that, a namespace inside it).</summary>
    public IReadOnlySet<string> ProjectsDeclaring(string ns)
    {
        if (_declaredBy.TryGetValue(ns, out var exact))
            return exact;
        return _declaredBy.Where(kv => kv.Key.StartsWith(ns + ".", StringComparison.Ordinal))
            .SelectMany(kv => kv.Value).ToHashSet(StringComparer.Ordinal);
    }

    private SortedSet<string> DeclaredBy(string ns) =>
        _declaredBy.TryGetValue(ns, out var set) ? set : _declaredBy[ns] = new(StringComparer.Ordinal);

    private HashSet<string> TypesIn(string ns) =>
        _types.TryGetValue(ns, out var set) ? set : _types[ns] = new(StringComparer.Ordinal);

    private void CollectEdges(ParsedFile file, string fileUnit)
    {
        var code = file.Code.ToCharArray();
        foreach (Match m in UsingDirective().Matches(file.Code))
        {
            var segments = Segments(m.Groups["name"].Value);
            var global = m.Groups["global"].Success;
            if (Resolve(segments, global ? "" : file.NamespaceAt(m.Index)) is { } target)
                Add(file, fileUnit, m.Index, target.Ns);
            CSharpStripper.Blank(code, m.Index, m.Index + m.Length);
        }
        foreach (var (start, end) in file.Declarations)
            CSharpStripper.Blank(code, start, end);

        foreach (Match m in QualifiedName().Matches(new string(code)))
        {
            var segments = Segments(m.Groups["chain"].Value);
            var global = m.Groups["global"].Success;
            if (Resolve(segments, global ? "" : file.NamespaceAt(m.Index)) is not { } target)
                continue;
            // A name resolved against an enclosing namespace could be a local or a member that
            // happens to share a namespace's name: count it only when a type of that namespace follows.
            var fullyQualified = global || target.Outer.Length == 0;
            if (fullyQualified || (target.Used < segments.Length && TypesIn(target.Ns).Contains(segments[target.Used])))
                Add(file, fileUnit, m.Index, target.Ns);
        }
    }

    private void Add(ParsedFile file, string fileUnit, int index, string targetNs)
    {
        var enclosing = file.NamespaceAt(index);
        var from = enclosing.Length > 0 ? UnitOf(enclosing) : fileUnit;
        var to = UnitOf(targetNs);
        if (from != to)
            _edges.Add(new UnitEdge(from, to, file.Project, targetNs, file.Path, file.LineOf(index)));
    }

    /// <summary>Looks the first segment up in each enclosing namespace, innermost first, then extends it while it names a namespace.</summary>
    private (string Ns, int Used, string Outer)? Resolve(string[] segments, string enclosing)
    {
        for (var outer = enclosing; ; outer = Parent(outer))
        {
            var candidate = outer.Length == 0 ? segments[0] : outer + "." + segments[0];
            if (_namespaces.Contains(candidate))
            {
                var used = 1;
                while (used < segments.Length && _namespaces.Contains(candidate + "." + segments[used]))
                    candidate += "." + segments[used++];
                return (candidate, used, outer);
            }
            if (outer.Length == 0)
                return null;
        }
    }

    private static string[] Segments(string dotted) =>
        dotted.Split('.', StringSplitOptions.TrimEntries).Select(s => s.TrimStart('@')).ToArray();

    private static string Parent(string ns) => ns.LastIndexOf('.') is var dot and >= 0 ? ns[..dot] : "";

    private static string ProjectOf(string path)
    {
        var parts = path.Replace('\\', '/').Split('/');
        return parts.Length > 2 && parts[0] == "src" ? parts[1] : "";
    }

    private static ParsedFile Parse(SourceText source)
    {
        var code = CSharpStripper.Strip(source.Text);
        var scopes = new List<(int Pos, string Ns)> { (0, "") };
        var declared = new List<string>();
        var spans = new List<(int Start, int End)>();
        var open = new Stack<(string Ns, int Depth)>();
        var fileScoped = "";
        var depth = 0;
        for (var i = 0; i < code.Length; i++)
        {
            var c = code[i];
            if (c == '{')
                depth++;
            else if (c == '}' && --depth >= 0 && open.Count > 0 && open.Peek().Depth == depth)
            {
                open.Pop();
                scopes.Add((i, open.Count > 0 ? open.Peek().Ns : fileScoped));
            }
            else if (c == 'n' && (i == 0 || !IsIdentifierChar(code[i - 1]))
                && NamespaceDeclaration().Match(code, i) is { Success: true } m && m.Index == i)
            {
                var outer = open.Count > 0 ? open.Peek().Ns : fileScoped;
                var name = string.Join('.', Segments(m.Groups["name"].Value));
                var full = outer.Length == 0 ? name : outer + "." + name;
                declared.Add(full);
                if (m.Groups["end"].Value == ";")
                    fileScoped = full;
                else
                    open.Push((full, depth++));
                scopes.Add((i, full));
                spans.Add((m.Index, m.Index + m.Length));
                i = m.Index + m.Length - 1;
            }
        }
        return new ParsedFile(source.Path.Replace('\\', '/'), ProjectOf(source.Path), code, scopes, declared, spans);
    }

    private static bool IsIdentifierChar(char c) => char.IsLetterOrDigit(c) || c is '_' or '@' or '.';

    private sealed record ParsedFile(string Path, string Project, string Code, List<(int Pos, string Ns)> Scopes, List<string> Declared,
        List<(int Start, int End)> Declarations)
    {
        public string NamespaceAt(int index) => Scopes.Last(s => s.Pos <= index).Ns;

        public int LineOf(int index) => Code.AsSpan(0, index).Count('\n') + 1;
    }

    [GeneratedRegex(@"\Gnamespace\s+(?<name>@?[A-Za-z_][\w.\s]*?)\s*(?<end>[;{])")]
    private static partial Regex NamespaceDeclaration();

    [GeneratedRegex(@"(?m)^[ \t]*(?:global[ \t]+)?using[ \t]+(?:static[ \t]+)?(?:@?\w+[ \t]*=[ \t]*)?(?<global>global[ \t]*::[ \t]*)?(?<name>@?[A-Za-z_][\w.]*)[ \t]*(?:<[^;\n]*>)?[ \t]*;")]
    private static partial Regex UsingDirective();

    [GeneratedRegex(@"(?<![\w.@$]|::)(?<global>global\s*::\s*)?(?<chain>@?[A-Za-z_]\w*(?:\s*\.\s*@?[A-Za-z_]\w*)+)")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record(?:\s+(?:class|struct))?)\s+(?<name>[A-Za-z_]\w*)|\bdelegate\s+[^;(){}=]*?\b(?<name>[A-Za-z_]\w*)\s*(?:<[^;(]*>)?\s*\(")]
    private static partial Regex TypeDeclaration();
}

/// <summary>Blanks comments, string and char literals (keeping interpolation holes) and preprocessor lines, keeping offsets and newlines.</summary>
internal static class CSharpStripper
{
    public static string Strip(string text)
    {
        var output = text.ToCharArray();
        var i = 0;
        Code(text, output, ref i, inHole: false);
        return new string(output);
    }

    public static void Blank(char[] output, int from, int to)
    {
        for (var p = from; p < Math.Min(to, output.Length); p++)
            if (output[p] is not ('\n' or '\r'))
                output[p] = ' ';
    }

    /// <summary>Code from <paramref name="i"/>; in an interpolation hole, stops at the hole's closing brace.</summary>
    private static void Code(string s, char[] o, ref int i, bool inHole)
    {
        var depth = 0;
        while (i < s.Length)
        {
            var c = s[i];
            var next = i + 1 < s.Length ? s[i + 1] : '\0';
            if (c == '#' && !inHole || c == '/' && next == '/')
                i = Skip(s, o, i, s.IndexOf('\n', i) is var eol and >= 0 ? eol : s.Length);
            else if (c == '/' && next == '*')
                i = Skip(s, o, i, s.IndexOf("*/", i + 2, StringComparison.Ordinal) is var end and >= 0 ? end + 2 : s.Length);
            else if (c == '\'')
                i = CharLiteral(s, o, i);
            else if (c is '"' or '$' or '@')
                i = StringLiteral(s, o, i);
            else if (inHole && c is '(' or '[' or '{')
            {
                depth++;
                i++;
            }
            else if (inHole && c is ')' or ']' or '}')
            {
                if (depth-- == 0)
                    return;
                i++;
            }
            else if (inHole && depth == 0 && c == ':' && next != ':' && (i == 0 || s[i - 1] != ':'))
            {
                i = Skip(s, o, i, s.IndexOf('}', i) is var close and >= 0 ? close : s.Length); // format specifier
                return;
            }
            else
                i++;
        }
    }

    private static int Skip(string s, char[] o, int from, int to)
    {
        Blank(o, from, to);
        return to;
    }

    private static int CharLiteral(string s, char[] o, int i)
    {
        var k = i + 1;
        if (k < s.Length && s[k] == '\\')
            k++;
        k++;
        while (k < s.Length && s[k] is not ('\'' or '\n'))
            k++;
        return Skip(s, o, i, Math.Min(k + 1, s.Length));
    }

    /// <summary>Blanks the (regular, verbatim, raw, interpolated) string at <paramref name="i"/>; returns the index after it.</summary>
    private static int StringLiteral(string s, char[] o, int i)
    {
        int k = i, dollars = 0, ats = 0;
        for (; k < s.Length && s[k] is '$' or '@'; k++)
        {
            if (s[k] == '$')
                dollars++;
            else
                ats++;
        }
        if (k >= s.Length || s[k] != '"' || ats > 1)
            return i + 1; // "@name" (a verbatim identifier), not a string
        var verbatim = ats == 1;
        var quotes = Run(s, k, '"');
        var raw = !verbatim && quotes >= 3;
        var start = i;
        k += raw ? quotes : 1;
        while (k < s.Length)
        {
            var c = s[k];
            if (raw && c == '"' && Run(s, k, '"') is var closing && closing >= quotes)
            {
                k += closing;
                break;
            }
            if (!raw && !verbatim && c == '\\' || verbatim && c == '"' && k + 1 < s.Length && s[k + 1] == '"')
                k += 2;
            else if (!raw && c == '"')
            {
                k++;
                break;
            }
            else if (!raw && !verbatim && c == '\n')
                break;
            else if (dollars > 0 && c == '{')
            {
                var braces = Run(s, k, '{');
                var needed = raw ? dollars : 1;
                if (!raw && braces >= 2)
                {
                    k += 2; // "{{" is a literal brace
                    continue;
                }
                if (braces < needed)
                {
                    k += braces;
                    continue;
                }
                Blank(o, start, k + braces);
                var hole = k + braces;
                Code(s, o, ref hole, inHole: true);
                start = hole;
                k = hole + Math.Min(needed, Run(s, hole, '}'));
            }
            else
                k++;
        }
        return Skip(s, o, start, Math.Min(k, s.Length));
    }

    private static int Run(string s, int k, char c)
    {
        var n = 0;
        while (k + n < s.Length && s[k + n] == c)
            n++;
        return n;
    }
}
