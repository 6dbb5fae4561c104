using System.Text;
using System.Xml.Linq;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// Architecture tests over the sources in src/ (read as text, not as assemblies): the namespace
/// units (a project's root namespace, or one level below it, e.g. RlhfSharp.Training.Judges) and
/// the projects must depend on each other without cycles, and a project may only use namespaces of
/// the projects it references.
/// </summary>
public sealed class LayeringTests
{
    private sealed record ProjectFile(string Name, string RootNamespace, IReadOnlyList<string> References);

    private sealed record Repository(IReadOnlyList<ProjectFile> Projects, int FileCount, DependencyScan Scan);

    private static readonly Lazy<Repository> Repo = new(LoadRepository);

    [Fact]
    public void TheUnitsOfTrainingDependOnEachOtherWithoutCycles()
    {
        static bool InTraining(string unit) => unit == "RlhfSharp.Training" || unit.StartsWith("RlhfSharp.Training.", StringComparison.Ordinal);
        var edges = Repo.Value.Scan.Edges.Where(e => InTraining(e.From) && InTraining(e.To)).ToList();
        Assert.NotEmpty(edges);
        AssertAcyclic(edges, "the units of RlhfSharp.Training");
    }

    [Fact]
    public void AllUnitsOfAllProjectsDependOnEachOtherWithoutCycles()
    {
        Assert.NotEmpty(Repo.Value.Scan.Edges);
        AssertAcyclic(Repo.Value.Scan.Edges, "the units of all projects");
    }

    [Fact]
    public void ProjectReferencesFormNoCycle()
    {
        var projects = Repo.Value.Projects;
        Assert.NotEmpty(projects);
        var graph = ProjectGraph(projects);
        var cyclic = CycleFinder.Components(graph).Where(c => c.Count > 1 || graph[c[0]].Contains(c[0])).ToList();
        Assert.True(cyclic.Count == 0, "Projects referencing each other in a cycle:\n" + string.Join('\n',
            cyclic.Select(c => string.Join(", ", c) + ": " + string.Join("; ",
                c.SelectMany(p => graph[p].Where(c.Contains).Select(r => $"{p} -> {r}"))))));
    }

    [Fact]
    public void EveryCrossProjectDependencyFollowsTheProjectReferences()
    {
        var repo = Repo.Value;
        var graph = ProjectGraph(repo.Projects);
        var crossProject = 0;
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var edge in repo.Scan.Edges.Where(e => e.FromProject.Length > 0))
        {
            var owners = repo.Scan.ProjectsDeclaring(edge.ToNamespace);
            if (owners.Count == 0 || owners.Contains(edge.FromProject))
                continue;
            crossProject++;
            var reachable = Reachable(graph, edge.FromProject);
            if (!owners.Any(reachable.Contains))
                violations.Add($"{edge.Where}: {edge.FromProject} uses {edge.ToNamespace} (in {string.Join(", ", owners)}), " +
                    "which it does not reference, directly or transitively");
        }
        Assert.True(crossProject > 0, "No cross-project dependency found: the scan of src/ found nothing to check.");
        Assert.True(violations.Count == 0, string.Join('\n', violations));
    }

    private static readonly SourceText FakeA = new("src/RlhfSharp.Fake/A/A1.cs", """
        using RlhfSharp.Fake.B;
        namespace RlhfSharp.Fake.A;
        public class A1 { public B1? Next; }
        """);

    /// <summary>Uses C through a fully qualified name, and mentions A only where that creates no dependency.</summary>
    private static readonly SourceText FakeB = new("src/RlhfSharp.Fake/B/B1.cs", """"
        namespace RlhfSharp.Fake
        {
            namespace B
            {
                // A.A1 and RlhfSharp.Fake.A.A1 in comments /* RlhfSharp.Fake.A.A1 */
        #region RlhfSharp.Fake.A.A1
                public class B1
                {
                    public RlhfSharp.Fake.C.C1? Next;
                    /* A.A1
                       RlhfSharp.Fake.A.A1 */ private static string A => @"A.A1 "" RlhfSharp.Fake.A.A1";
                    private static readonly int N = A.Length + '"'.GetHashCode() + "A.A1\" A.A1".Length;
                    private static readonly string R = $"""{N} RlhfSharp.Fake.A.A1 {A.Length}""" + $@"{{A.A1}} ""A.A1"" {N:D2}";
                    private const string Raw = """
                        RlhfSharp.Fake.A.A1 "" A.A1
                        """;
                }
        #endregion
            }
        }
        """");

    private static readonly SourceText CyclicC = new("src/RlhfSharp.Fake/C/C1.cs", """
        namespace RlhfSharp.Fake.C;
        public class C1 { public A.A1? Next; }
        """);

    private static readonly SourceText AcyclicC = new("src/RlhfSharp.Fake/C/C1.cs", """
        namespace RlhfSharp.Fake.C;
        // public A.A1? Next;
        public class C1 { public string Name = $"{D.D1.Name} and not A.A1 {"A.A1"}"; }
        """);

    private static readonly SourceText FakeD = new("src/RlhfSharp.Fake/D/D1.cs", """
        namespace RlhfSharp.Fake.D;
        public static class D1 { public const string Name = "RlhfSharp.Fake.A.A1"; }
        """);

    [Fact]
    public void TheCheckerReportsACycleThroughAUsingAFullyQualifiedAndAPartiallyQualifiedName()
    {
        var scan = DependencyScan.Analyze([CyclicC, FakeB, FakeA]);
        Assert.Equal(3, scan.Edges.Count);
        var cycle = Assert.Single(CycleFinder.Find(scan.Edges));
        Assert.Equal(["RlhfSharp.Fake.A", "RlhfSharp.Fake.B", "RlhfSharp.Fake.C"], cycle.Units);
        Assert.Equal(
            [
                "RlhfSharp.Fake.A -> RlhfSharp.Fake.B at src/RlhfSharp.Fake/A/A1.cs:1",
                "RlhfSharp.Fake.B -> RlhfSharp.Fake.C at src/RlhfSharp.Fake/B/B1.cs:9",
                "RlhfSharp.Fake.C -> RlhfSharp.Fake.A at src/RlhfSharp.Fake/C/C1.cs:2",
            ],
            cycle.Edges.Select(e => $"{e.From} -> {e.To} at {e.Where}"));
    }

    [Fact]
    public void TheCheckerReportsNoCycleForAnAcyclicSet()
    {
        var scan = DependencyScan.Analyze([FakeA, FakeB, AcyclicC, FakeD]);
        Assert.Empty(CycleFinder.Find(scan.Edges));
        Assert.Equal(
            ["RlhfSharp.Fake.A -> RlhfSharp.Fake.B", "RlhfSharp.Fake.B -> RlhfSharp.Fake.C", "RlhfSharp.Fake.C -> RlhfSharp.Fake.D"],
            scan.Edges.Select(e => $"{e.From} -> {e.To}"));
    }

    private static void AssertAcyclic(IEnumerable<UnitEdge> edges, string what)
    {
        var cycles = CycleFinder.Find(edges);
        Assert.True(cycles.Count == 0, $"Dependency cycles among {what}:\n{CycleFinder.Describe(cycles)}");
    }

    private static SortedDictionary<string, SortedSet<string>> ProjectGraph(IEnumerable<ProjectFile> projects)
    {
        var graph = CycleFinder.Graph(projects.SelectMany(p => p.References.Select(r => (p.Name, r))));
        foreach (var p in projects)
            graph.TryAdd(p.Name, new SortedSet<string>(StringComparer.Ordinal));
        return graph;
    }

    private static HashSet<string> Reachable(SortedDictionary<string, SortedSet<string>> graph, string from)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([from]);
        while (pending.TryPop(out var p))
            foreach (var r in graph.GetValueOrDefault(p) ?? [])
                if (seen.Add(r))
                    pending.Push(r);
        return seen;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "RlhfSharp.slnx")))
                return dir.FullName;
        throw new InvalidOperationException(
            $"No folder holding RlhfSharp.slnx at or above {AppContext.BaseDirectory}: the layering tests read the sources in the repository's src/.");
    }

    private static Repository LoadRepository()
    {
        var root = FindRepositoryRoot();
        var src = Path.Combine(root, "src");
        var projects = new List<ProjectFile>();
        foreach (var csproj in Directory.GetDirectories(src).SelectMany(d => Directory.GetFiles(d, "*.csproj")).Order(StringComparer.Ordinal))
        {
            var dir = Path.GetDirectoryName(csproj)!;
            var xml = XDocument.Load(csproj);
            var rootNamespace = xml.Descendants("RootNamespace").Select(e => e.Value.Trim()).FirstOrDefault(v => v.Length > 0);
            var references = xml.Descendants("ProjectReference")
                .Select(e => (string?)e.Attribute("Include"))
                .OfType<string>()
                .Select(include => Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(Path.Combine(dir, include.Replace('\\', '/'))))!))
                .Order(StringComparer.Ordinal)
                .ToList();
            projects.Add(new ProjectFile(Path.GetFileName(dir), rootNamespace ?? Path.GetFileNameWithoutExtension(csproj), references));
        }
        var sources = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(rel => !rel.Split('/').Any(part => part is "bin" or "obj"))
            .Order(StringComparer.Ordinal)
            .Select(rel => new SourceText(rel, File.ReadAllText(Path.Combine(root, rel))))
            .ToList();
        var scan = DependencyScan.Analyze(sources, projects.ToDictionary(p => p.Name, p => p.RootNamespace));
        return new Repository(projects, sources.Count, scan);
    }
}

/// <summary>Strongly connected components (Tarjan) and cycle reports, in ordinal order.</summary>
internal static class CycleFinder
{
    public static IReadOnlyList<DependencyCycle> Find(IEnumerable<UnitEdge> edges)
    {
        var examples = new SortedDictionary<(string From, string To), UnitEdge>(Comparer<(string From, string To)>.Create((a, b) =>
            string.CompareOrdinal(a.From, b.From) is var c and not 0 ? c : string.CompareOrdinal(a.To, b.To)));
        foreach (var e in edges.OrderBy(e => e.File, StringComparer.Ordinal).ThenBy(e => e.Line))
            examples.TryAdd((e.From, e.To), e);
        var graph = Graph(examples.Keys);
        return [.. Components(graph).Where(c => c.Count > 1).Select(c => new DependencyCycle(c,
            [.. examples.Values.Where(e => c.Contains(e.From) && c.Contains(e.To))]))];
    }

    public static SortedDictionary<string, SortedSet<string>> Graph(IEnumerable<(string From, string To)> arcs)
    {
        var graph = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        SortedSet<string> Node(string n) => graph.TryGetValue(n, out var s) ? s : graph[n] = new(StringComparer.Ordinal);
        foreach (var (from, to) in arcs)
        {
            Node(from).Add(to);
            Node(to);
        }
        return graph;
    }

    /// <summary>Tarjan's algorithm; each component sorted, components ordered by their first name.</summary>
    public static List<List<string>> Components(SortedDictionary<string, SortedSet<string>> graph)
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var components = new List<List<string>>();
        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in graph[v])
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w))
                    low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v])
                return;
            var component = new List<string>();
            string x;
            do
            {
                x = stack.Pop();
                onStack.Remove(x);
                component.Add(x);
            } while (x != v);
            component.Sort(StringComparer.Ordinal);
            components.Add(component);
        }
        foreach (var v in graph.Keys)
            if (!index.ContainsKey(v))
                Visit(v);
        components.Sort((a, b) => string.CompareOrdinal(a[0], b[0]));
        return components;
    }

    public static string Describe(IReadOnlyList<DependencyCycle> cycles)
    {
        var text = new StringBuilder();
        foreach (var cycle in cycles)
        {
            text.Append($"Cycle among {cycle.Units.Count} units: {string.Join(", ", cycle.Units)}\n");
            foreach (var e in cycle.Edges)
                text.Append($"  {e.From} -> {e.To}   ({e.Where})\n");
        }
        return text.ToString();
    }
}
