using System.Text.Json.Nodes;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Rl;

/// <summary><c>rlhf grpo</c>: the shared RL loop (<see cref="RlLoop"/>) with <see cref="GrpoLearner"/> steps.</summary>
public static class GrpoTrainer
{
    public static JsonObject Run(GrpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null) =>
        RlLoop.Run(cfg, "grpo", runDir, resume, progress, ctx => new GrpoLearner(cfg, ctx),
            ["reward", "reward_std", "kl", "objective/gold_score", "objective/kl", "remax/greedy_score", "overlong/penalty", "dynamic_sampling/gen_batches"]);
}
