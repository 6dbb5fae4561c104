using System.Text.Json.Nodes;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Pipeline;

/// <summary>What a policy stage of the pipeline is run with.</summary>
/// <param name="Yaml">The stage's example config text.</param>
/// <param name="Source">The name the config text is reported under (examples/&lt;stage&gt;.yaml).</param>
/// <param name="Overrides">The pipeline's settings (data, seed, device…) and model=&lt;the SFT model&gt;.</param>
/// <param name="RewardModel">The rm stage's model, when the pipeline runs that stage.</param>
/// <param name="HasGold">Whether the data has the built-in task's gold scorer.</param>
/// <param name="LabelPairs">The label stage's labelled pairs of the SFT policy's answers, when the pipeline ran that stage.</param>
public sealed record PolicyStageRun(string Yaml, string Source, IReadOnlyList<string> Overrides, string? RewardModel, bool HasGold,
    string? LabelPairs, string Dir, bool Resume, IProgressReporter Progress, PipelineConfig Pipeline)
{
    /// <summary>The stage's config from its example text with the pipeline's overrides, steps scaled by steps_scale.</summary>
    public T Config<T>(params string[] more)
        where T : TrainLoopConfig, new()
        => PipelineStages.Scaled(ConfigBinder.LoadFromText<T>(Yaml, Source, [.. Overrides, .. more]), Pipeline);
}

/// <summary>
/// The stages <c>rlhf pipeline</c> knows. sft, label and rm build the inputs; every other stage
/// trains a policy from the SFT model with its example config (examples/&lt;stage&gt;.yaml), and
/// each such policy joins the final comparison with the SFT model.
/// </summary>
public static class PipelineStages
{
    /// <summary>The stages that build the policies' inputs, in their order.</summary>
    public static readonly string[] Inputs = ["sft", "label", "rm"];

    /// <summary>The stages a default pipeline runs.</summary>
    public static readonly string[] Default = ["sft", "label", "rm", "ppo", "dpo", "grpo"];

    /// <summary>Each policy stage: how it runs, and whether it needs the rm stage whatever the data.</summary>
    private static readonly Dictionary<string, (Func<PolicyStageRun, JsonObject> Run, bool NeedsRm)> Policies = new(StringComparer.Ordinal)
    {
        ["ppo"] = (s => PpoTrainer.Run(s.Config<PpoConfig>($"reward_model={RequireRm(s, "ppo")}"), s.Dir, s.Resume, s.Progress), true),
        ["dpo"] = (s => DpoTrainer.Run(WithLabelPairs(s.Config<DpoConfig>(), s), s.Dir, s.Resume, s.Progress), false),
        ["grpo"] = (Grpo, false),
        ["reinforce-pp"] = (Grpo, false),
        ["remax"] = (Grpo, false),
        ["gspo"] = (Grpo, false),
        ["dapo"] = (Grpo, false),
        ["grpo-dual-clip"] = (Grpo, false),
        ["online-dpo"] = (s => OnlineDpoTrainer.Run(s.Config<OnlineDpoConfig>($"reward_model={RequireRm(s, "online-dpo")}"), s.Dir, s.Resume, s.Progress), true),
        ["kto"] = (s => KtoTrainer.Run(s.Config<KtoConfig>(), s.Dir, s.Resume, s.Progress), false),
        ["orpo"] = (s => OrpoTrainer.Run(s.Config<OrpoConfig>(), s.Dir, s.Resume, s.Progress), false),
        ["simpo"] = (s => SimpoTrainer.Run(s.Config<SimpoConfig>(), s.Dir, s.Resume, s.Progress), false),
    };

    /// <summary>Every stage name, the inputs first.</summary>
    public static IReadOnlyList<string> All => [.. Inputs, .. Policies.Keys];

    /// <summary>The policy stages among <paramref name="stages"/>, in their order.</summary>
    public static IEnumerable<string> PolicyStages(IEnumerable<string> stages) => stages.Where(Policies.ContainsKey);

    public static bool IsPolicy(string stage) => Policies.ContainsKey(stage);

    /// <summary>Whether the stage needs the rm stage's model even when the data has a gold scorer.</summary>
    public static bool NeedsRewardModel(string stage) => Policies.TryGetValue(stage, out var p) && p.NeedsRm;

    public static JsonObject Run(string stage, PolicyStageRun run) => Policies[stage].Run(run);

    internal static T Scaled<T>(T cfg, PipelineConfig p)
        where T : TrainLoopConfig
    {
        if (p.StepsScale == 1)
            return cfg;
        int S(int v) => ScaledSteps(v, p);
        cfg.MaxSteps = S(cfg.MaxSteps);
        cfg.EvalEvery = S(cfg.EvalEvery);
        cfg.SaveEvery = S(cfg.SaveEvery);
        cfg.WarmupSteps = Math.Min(S(cfg.WarmupSteps), cfg.MaxSteps);
        return cfg;
    }

    /// <summary>A step count times steps_scale, at least 1 (0 stays 0: "only at the end").</summary>
    internal static int ScaledSteps(int steps, PipelineConfig p) => steps == 0 ? 0 : Math.Max(1, (int)Math.Round(steps * p.StepsScale));

    // DPO trains on the data's pairs and, when the label stage ran, on its labelled pairs of the SFT
    // policy's own answers (what examples/dpo.yaml names as runs/label/prefs_train.jsonl): pairs drawn
    // from the policy being optimised, which the data's written pairs are not.
    private static DpoConfig WithLabelPairs(DpoConfig cfg, PolicyStageRun s)
    {
        cfg.ExtraTrainFiles = s.LabelPairs is null ? [] : [s.LabelPairs];
        return cfg;
    }

    private static string RequireRm(PolicyStageRun s, string stage) =>
        s.RewardModel ?? throw new TrainingSetupException($"{stage} needs the rm stage's reward model");

    // The critic-free stages differ only in their example configs (estimator, loss, DAPO's keys).
    private static JsonObject Grpo(PolicyStageRun s) => GrpoTrainer.Run(GrpoReward(s.Config<GrpoConfig>(), s), s.Dir, s.Resume, s.Progress);

    // A critic-free stage's example rewards with the gold scorer; data without one falls back to the pipeline's reward model.
    private static T GrpoReward<T>(T cfg, PolicyStageRun s)
        where T : RlConfig
    {
        if (s.HasGold || cfg.RewardModel is not null)
            return cfg;
        cfg.RewardFuncs = [];
        cfg.RewardModel = s.RewardModel ?? throw new TrainingSetupException($"{s.Source}: the data has no gold scorer, so this stage needs the rm stage for a reward");
        return cfg;
    }
}
