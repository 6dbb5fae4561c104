using System.Reflection;

namespace RlhfSharp.Cli.Verbs;

/// <summary>Finds the verbs the <c>rlhf</c> assembly ships (see <see cref="IVerb"/>).</summary>
public static class VerbRegistry
{
    /// <summary>One instance of each verb class in <paramref name="assembly"/>, ordered by type name.</summary>
    public static IReadOnlyList<IVerb> Discover(Assembly assembly) =>
        [.. assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && typeof(IVerb).IsAssignableFrom(t)
                && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (IVerb)Activator.CreateInstance(t)!)];

    /// <summary>The verbs of the <c>rlhf</c> command itself.</summary>
    public static IReadOnlyList<IVerb> Product() => Discover(typeof(VerbRegistry).Assembly);
}
