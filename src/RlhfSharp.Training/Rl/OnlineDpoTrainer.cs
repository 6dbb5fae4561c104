using System.Text.Json.Nodes;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Rl;

/// <summary><c>rlhf online-dpo</c>: the shared RL loop (<see cref="RlLoop"/>) with <see cref="OnlineDpoLearner"/> steps.</summary>
public static class OnlineDpoTrainer
{
    public static JsonObject Run(OnlineDpoConfig cfg, string runDir, bool resume, IProgressReporter? progress = null) =>
        RlLoop.Run(cfg, "online-dpo", runDir, resume, progress, ctx => new OnlineDpoLearner(cfg, ctx),
            ["objective/scores", "objective/kl", "rewards/accuracies", "objective/tie_fraction", "objective/gold_score"]);
}
