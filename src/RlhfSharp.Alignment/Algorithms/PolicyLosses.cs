using RlhfSharp.Alignment.Gspo;
using RlhfSharp.Alignment.Ppo;

namespace RlhfSharp.Alignment.Algorithms;

/// <summary>
/// The policy losses by the name configs use (policy_loss), like verl's <c>core_algos</c> registry:
/// <c>ppo_clip</c> (PPO's clipped surrogate; ε_high ≠ ε is DAPO's clip-higher), <c>dual_clip</c>
/// (dual-clip PPO), <c>gspo</c> (GSPO's sequence-level ratio). A new loss is one function and one line here.
/// </summary>
public static class PolicyLosses
{
    private static readonly Dictionary<string, PolicyLossFunction> Registry = new(StringComparer.Ordinal)
    {
        ["dual_clip"] = DualClipPolicyLoss.Compute,
        ["gspo"] = GspoLoss.Compute,
        ["ppo_clip"] = PolicyLoss.PpoClip,
    };

    /// <summary>The registered names, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Registry.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The loss registered as <paramref name="name"/>; an unknown name lists the valid ones.</summary>
    public static PolicyLossFunction Get(string name) =>
        Registry.TryGetValue(name, out var f) ? f : throw new UnknownAlgorithmException("policy loss", name, Names);
}
