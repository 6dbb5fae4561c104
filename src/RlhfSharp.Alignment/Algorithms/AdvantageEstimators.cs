using RlhfSharp.Alignment.Grpo;
using RlhfSharp.Alignment.Reinforce;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Distributed;

namespace RlhfSharp.Alignment.Algorithms;

/// <summary>What an advantage estimator may read; each estimator names the fields it needs.</summary>
public sealed record AdvantageInputs
{
    /// <summary>[B, T]: 1 on real response tokens.</summary>
    public required Tensor ResponseMask { get; init; }

    /// <summary>[B, T]: per-token rewards (critic-based estimators).</summary>
    public Tensor? TokenRewards { get; init; }

    /// <summary>[B, T]: the critic's values (critic-based estimators).</summary>
    public Tensor? Values { get; init; }

    /// <summary>[B]: one outcome score per response (outcome estimators), a prompt's G responses contiguous.</summary>
    public Tensor? Scores { get; init; }

    /// <summary>[B, T]: the per-token KL estimate to the reference (REINFORCE++; may be null when <see cref="Beta"/> is 0).</summary>
    public Tensor? Kl { get; init; }

    /// <summary>The KL coefficient β of REINFORCE++'s per-token reward −β·KL_t.</summary>
    public double Beta { get; init; }

    /// <summary>[B]: the score of the greedy response to row b's prompt (ReMax's baseline).</summary>
    public Tensor? GreedyScores { get; init; }

    /// <summary>The ranks whose real tokens REINFORCE++'s whitening spans (one process by default).</summary>
    public Communicator Communicator { get; init; } = SingleProcessCommunicator.Instance;

    /// <summary>G, responses per prompt (outcome estimators).</summary>
    public int GroupSize { get; init; } = 1;

    /// <summary>Discount γ (GAE).</summary>
    public double Gamma { get; init; } = 1;

    /// <summary>λ (GAE).</summary>
    public double Lambda { get; init; } = 0.95;

    /// <summary>GRPO: divide by the group's std (false: Dr. GRPO's mean-only centring).</summary>
    public bool ScaleByStd { get; init; } = true;
}

/// <summary>
/// Advantages [B, T] and the returns [B, T]: those the critic regresses on (critic-based
/// estimators), REINFORCE++'s discounted returns before whitening, null for outcome estimators; float64.
/// </summary>
public sealed record AdvantageOutput(Tensor Advantages, Tensor? Returns);

/// <summary>An advantage estimator (see <see cref="AdvantageEstimators"/>).</summary>
public delegate AdvantageOutput AdvantageEstimator(AdvantageInputs inputs);

/// <summary>
/// The advantage estimators by the name configs use (<c>advantage</c>), like verl's
/// <c>core_algos</c>: <c>gae</c> (PPO's critic-based GAE), <c>grpo</c> (group-normalised outcome
/// scores), <c>rloo</c> (leave-one-out baseline), <c>reinforce_plus_plus</c> and
/// <c>reinforce_plus_plus_baseline</c> (discounted returns of −β·KL plus the score, whitened over the
/// batch; the second after subtracting the group's mean score), <c>remax</c> (the greedy response's
/// score as baseline). A new estimator is one function and one line here.
/// Outcome estimators give every real token of a response its response's advantage.
/// </summary>
public static class AdvantageEstimators
{
    private sealed record Entry(AdvantageEstimator Estimate, bool NeedsCritic);

    private static readonly Dictionary<string, Entry> Registry = new(StringComparer.Ordinal)
    {
        ["gae"] = new(Gae, NeedsCritic: true),
        ["grpo"] = new(x => Outcome(x, GroupAdvantages.Compute(Require(x.Scores, "grpo", "Scores"), x.GroupSize, x.ScaleByStd)), NeedsCritic: false),
        ["rloo"] = new(x => Outcome(x, LeaveOneOutAdvantages.Compute(Require(x.Scores, "rloo", "Scores"), x.GroupSize)), NeedsCritic: false),
        ["reinforce_plus_plus"] = new(x => Returns(ReinforcePlusPlus.Compute(Require(x.Scores, "reinforce_plus_plus", "Scores"), x.Kl, x.ResponseMask, x.Beta, x.Gamma, x.Communicator)), NeedsCritic: false),
        ["reinforce_plus_plus_baseline"] = new(x => Returns(ReinforcePlusPlus.ComputeWithGroupBaseline(Require(x.Scores, "reinforce_plus_plus_baseline", "Scores"), x.GroupSize, x.Kl, x.ResponseMask, x.Beta, x.Gamma, x.Communicator)), NeedsCritic: false),
        ["remax"] = new(x => Outcome(x, RemaxAdvantages.Compute(Require(x.Scores, "remax", "Scores"), Require(x.GreedyScores, "remax", "GreedyScores"))), NeedsCritic: false),
    };

    /// <summary>Every registered name, sorted.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Registry.Keys.Order(StringComparer.Ordinal)];

    /// <summary>The names of the estimators that need no critic (for critic-free trainers), sorted.</summary>
    public static IReadOnlyList<string> CriticFree { get; } = [.. Registry.Where(e => !e.Value.NeedsCritic).Select(e => e.Key).Order(StringComparer.Ordinal)];

    /// <summary>The estimator registered as <paramref name="name"/>; an unknown name lists the valid ones.</summary>
    public static AdvantageEstimator Get(string name) =>
        Registry.TryGetValue(name, out var e) ? e.Estimate : throw new UnknownAlgorithmException("advantage estimator", name, Names);

    private static AdvantageOutput Gae(AdvantageInputs x)
    {
        var (advantages, returns) = Ppo.Gae.Compute(Require(x.TokenRewards, "gae", "TokenRewards"), Require(x.Values, "gae", "Values"), x.ResponseMask, x.Gamma, x.Lambda);
        return new AdvantageOutput(advantages, returns);
    }

    private static AdvantageOutput Returns((Tensor Advantages, Tensor Returns) r) => new(r.Advantages, r.Returns);

    private static AdvantageOutput Outcome(AdvantageInputs x, Tensor perResponse) =>
        new(GroupAdvantages.ToTokens(perResponse, x.ResponseMask), null);

    private static Tensor Require(Tensor? t, string estimator, string field) =>
        t ?? throw new ArgumentException($"advantage estimator '{estimator}' needs {field}");
}
