using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Rl;

/// <summary>What a reward function named in <c>reward_funcs</c> is built from.</summary>
/// <param name="Config">The RL run's config (a function's own keys live there).</param>
/// <param name="Template">The chat template prompts are rendered with.</param>
/// <param name="Gold">The built-in task's gold scorer, when the data folder has one.</param>
public sealed record RewardFunctionContext(RlConfig Config, ChatTemplate Template, IRewardSource? Gold);

/// <summary>
/// The reward functions <c>reward_funcs</c> may name, registered by name like the advantage
/// estimators and policy losses: each builds an <see cref="IRewardSource"/> that the run's
/// <see cref="RewardMixture"/> weighs with the reward model and the others.
/// </summary>
public static class RewardFunctions
{
    /// <summary>The name of the reward server function (keys in RlConfig.Remote.cs).</summary>
    public const string Remote = "remote";

    private sealed record Entry(string Description, Func<RewardFunctionContext, IRewardSource> Build);

    private static readonly Dictionary<string, Entry> Registry = new(StringComparer.Ordinal)
    {
        ["gold"] = new("the built-in task's gold scorer (needs a data folder from `rlhf data builtin`)", ctx => ctx.Gold
            ?? throw new TrainingSetupException($"reward_funcs: gold needs a data folder written by `rlhf data builtin` (data: {ctx.Config.Data ?? "not set"})")),
        ["accuracy"] = new("1 when the answer read from the response (accuracy_extractor) equals the prompt row's reference answer (label or answer), else 0", ctx => ctx.Config.BuildAccuracy()),
        ["format"] = new("1 when the response matches format_pattern, else 0", ctx => ctx.Config.BuildFormat()),
        ["length"] = new("-length_penalty per word or char past length_target", ctx => ctx.Config.BuildLength()),
        [Remote] = new("a reward server at reward_url speaking OpenRLHF's protocol: POST {query, prompts, labels}, answer {rewards}", ctx => ctx.Config.BuildRemoteReward(ctx.Template)),
    };

    /// <summary>The registered names, in registration order.</summary>
    public static IReadOnlyList<string> Names => [.. Registry.Keys];

    /// <summary>One line per function: its name and what it scores.</summary>
    public static string Describe() => string.Join("; ", Registry.Select(kv => $"{kv.Key} ({kv.Value.Description})"));

    /// <exception cref="TrainingSetupException">The name is not registered, or the function cannot be built from this run.</exception>
    public static IRewardSource Build(string name, RewardFunctionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Registry.TryGetValue(name, out var entry)
            ? entry.Build(context)
            : throw new TrainingSetupException($"reward_funcs: unknown reward function '{name}'; known: {string.Join(", ", Registry.Keys)}");
    }
}
