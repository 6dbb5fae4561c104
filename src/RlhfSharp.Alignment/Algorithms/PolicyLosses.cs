using RlhfSharp.Alignment.Ppo;

namespace RlhfSharp.Alignment.Algorithms;

/// <summary>
/// The policy losses by the name configs use (policy_loss), like verl's <c>core_algos</c> registry:
/// a new loss is one function and one line here.
/// </summary>
public static class PolicyLosses
{
    private static readonly Dictionary<string, PolicyLossFunction> Registry = new(StringComparer.Ordinal)
    {
        ["ppo_clip"] = PolicyLoss.PpoClip,
    };

    /// <summary>The registered names, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Registry.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The loss registered as <paramref name="name"/>; an unknown name lists the valid ones.</summary>
    public static PolicyLossFunction Get(string name) =>
        Registry.TryGetValue(name, out var f) ? f : throw new UnknownAlgorithmException("policy loss", name, Names);
}
