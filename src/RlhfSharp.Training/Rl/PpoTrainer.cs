using System.Text.Json.Nodes;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Rl;

/// <summary>
/// <c>rlhf ppo</c>: the shared RL loop (<see cref="RlLoop"/>) with <see cref="PpoLearner"/> steps;
/// checkpoints add the critic, β, the score normaliser, the RNG and the ptx data position, so a
/// resume is bit-identical.
/// </summary>
public static class PpoTrainer
{
    public static JsonObject Run(PpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null) =>
        RlLoop.Run(cfg, "ppo", runDir, resume, progress, ctx => new PpoLearner(cfg, ctx),
        ["objective/kl", "objective/kl_coef", "objective/scores", "objective/gold_score"],
        summary =>
        {
            summary["kl_target"] = cfg.AdaptiveKl ? cfg.KlTarget : null;
            summary["kl_estimator"] = cfg.KlEstimator;
        });
}

/// <summary>Demonstrations for the PPO-ptx term: a loader and its collator.</summary>
public sealed record PtxSource(DataLoader<SftExample> Loader, SftCollator Collator);
