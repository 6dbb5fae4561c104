using System.Globalization;
using System.Text.Json.Nodes;
using RlhfSharp.Models.IO;
using RlhfSharp.Tensors.Distributed;
using RlhfSharp.Training.Checkpointing;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Metrics;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Pipeline;

/// <summary>What the ppo stage's rounds are run with.</summary>
/// <param name="Name">The ppo run's name in the comparison: ppo, or ppo-seed&lt;N&gt; for one seed of several.</param>
/// <param name="Data">The data folder (with the gold scorer the labeller needs).</param>
/// <param name="Common">The pipeline's settings every stage gets (data, threads, device, dtype), without the seed.</param>
/// <param name="RewardModel">The rm stage's reward model, round 1's reward.</param>
/// <param name="LabelDir">The label stage's folder when it ran: its pairs stay in every retraining, as in the rm stage.</param>
/// <param name="StageYaml">The example configs of ppo, label and rm.</param>
/// <param name="StageDir">A run folder of the pipeline by name.</param>
/// <param name="Progress">The console progress of a sub-run by its folder name.</param>
internal sealed record RoundsRun(PipelineConfig Pipeline, string Name, int Seed, string Data, IReadOnlyList<string> Common, string SftModel, string RewardModel,
    string? LabelDir, IReadOnlyDictionary<string, string> StageYaml, Func<string, string> StageDir, Func<string, IProgressReporter> Progress, TextWriter Log);

/// <summary>
/// Iterated RLHF (Ouyang et al. 2022, §3.5; Bai et al. 2022, §4.5, "iterated online RLHF"). PPO against
/// a fixed reward model finds its shortcuts (on the built-in task: a list that looks sorted, not the
/// prompt's numbers sorted), so the ppo stage runs as <c>rounds</c> rounds. Round k trains PPO for its
/// share of the steps; the task's simulated labeller then labels pairs of that policy's own answers;
/// and before round k + 1 the reward model continues training from round k's on every pair so far plus
/// these. Round k + 1 continues from round k's policy and critic (their weights and β: the optimizer's
/// moments are not carried over, as a PPO run starts its AdamW anew), scored by the new reward model,
/// with the KL still measured to the SFT model.
/// </summary>
internal static class PpoRounds
{
    /// <summary>In each label-round folder: the reward models' accuracy on its pairs before and after training on them.</summary>
    public const string AccuracyFileName = "rm_accuracy.json";

    /// <summary>Round k's folder of a stage: ppo-round2, label-round2, rm-round2 (ppo-seed3-round2… for one seed of several).</summary>
    public static string Folder(string stage, string run, int round) => $"{stage}{run["ppo".Length..]}-round{round}";

    /// <summary>The policy the comparison takes: the last round's.</summary>
    public static string FinalModel(RoundsRun r) => Path.Combine(r.StageDir(Folder("ppo", r.Name, r.Pipeline.Rounds)), "model");

    /// <summary>Runs (or, where summary.json exists, keeps) every round; the summary holds each round's results under "rounds".</summary>
    public static JsonObject Run(RoundsRun r)
    {
        var p = r.Pipeline;
        var comm = World.Current;
        int total = PpoConfig(r, 1, [], r.RewardModel).MaxSteps;
        if (total < p.Rounds)
            throw new TrainingSetupException($"rounds: {p.Rounds} needs at least one PPO step a round, but examples/ppo.yaml's max_steps at steps_scale {p.StepsScale} is {total}; lower rounds or raise steps_scale");
        var rmCfg = RmConfig(r, r.Seed, r.RewardModel);
        var results = new JsonArray();
        double seconds = 0;
        string rm = r.RewardModel;
        var labelled = new List<string>();
        for (int k = 1; k <= p.Rounds; k++)
        {
            // Each round has a seed of its own (seed + k − 1), so that it rolls out other prompts in another order, not round 1's again.
            int seed = r.Seed + k - 1;
            string ppoName = Folder("ppo", r.Name, k), ppoDir = r.StageDir(ppoName);
            var more = new List<string>();
            if (k > 1)
            {
                string previous = r.StageDir(Folder("ppo", r.Name, k - 1));
                more.Add($"model={Path.Combine(previous, "model")}");
                more.Add($"ref_model={r.SftModel}");
                if (new CheckpointStore(previous).Latest() is { } last)
                {
                    more.Add($"value_model={Path.Combine(last.Path, "critic")}");
                    if (KlBeta(last.Path) is { } beta)
                        more.Add(string.Create(CultureInfo.InvariantCulture, $"init_kl_coef={beta:R}"));
                }
            }
            var ppo = PpoConfig(r, seed, more, rm);
            ppo.MaxSteps = (int)((long)total * k / p.Rounds) - (int)((long)total * (k - 1) / p.Rounds);
            ppo.WarmupSteps = Math.Min(ppo.WarmupSteps, ppo.MaxSteps);
            var ppoSummary = Stage(r, ppoName, ppoDir, () => PpoTrainer.Run(ppo, ppoDir, Resumable(ppoDir), r.Progress(ppoName)));
            comm.Barrier($"{ppoName} stage");
            seconds += Seconds(ppoSummary);

            // The labeller compares two answers of this round's policy to each train prompt: the reward
            // model's next round is judged on, and learns from, the answers the policy now writes (Bai et al.
            // compare samples of the latest policy), not on how the policy differs from SFT.
            string labelName = Folder("label", r.Name, k), labelDir = r.StageDir(labelName);
            var labelCfg = PipelineRunner.ScaledLabel(ConfigBinder.LoadFromText<LabelConfig>(r.StageYaml["label"], "examples/label.yaml",
                [.. r.Common, $"seed={seed}", $"model={Path.Combine(ppoDir, "model")}"]), p, r.Data);
            // Labelling is not data-parallel: rank 0 labels and measures, the others wait for its files.
            if (comm.IsMain)
            {
                Stage(r, labelName, labelDir, () => Labeller.Run(labelCfg, labelDir, r.Progress(labelName)));
                Accuracy(labelDir, "before", rm, rmCfg, p);
            }
            comm.Barrier($"{labelName} stage");
            var labelSummary = Summary(labelDir);
            seconds += Seconds(labelSummary);
            labelled.Add(labelDir);

            // Between rounds the reward model continues from the previous one on every pair so far.
            string? rmName = k < p.Rounds ? Folder("rm", r.Name, k) : null;
            JsonObject? rmSummary = null;
            if (rmName is not null)
            {
                string rmDir = r.StageDir(rmName);
                var retrain = PipelineRunner.WithLabels(RmConfig(r, seed, rm), r.LabelDir is null ? labelled : [r.LabelDir, .. labelled]);
                retrain.MaxSteps = PipelineStages.ScaledSteps(p.RoundRmSteps, p);
                retrain.WarmupSteps = Math.Min(retrain.WarmupSteps, retrain.MaxSteps);
                retrain.EvalEvery = 0;
                retrain.SaveEvery = 0;
                rmSummary = Stage(r, rmName, rmDir, () => RewardTrainer.Run(retrain, rmDir, Resumable(rmDir), r.Progress(rmName)));
                seconds += Seconds(rmSummary);
                rm = Path.Combine(rmDir, "model");
                if (comm.IsMain)
                    Accuracy(labelDir, "after", rm, rmCfg, p);
                comm.Barrier($"{rmName} stage");
            }
            if (comm.IsMain)
                results.Add(RoundResult(k, seed, ppoName, ppoSummary, labelSummary, rmName, rmSummary, Read(labelDir)));
        }
        return new JsonObject
        {
            ["stage"] = "ppo",
            ["rounds"] = results,
            ["model"] = FinalModel(r),
            ["time/total_s"] = seconds,
        };
    }

    private static JsonObject RoundResult(int k, int seed, string ppoName, JsonObject ppo, JsonObject label, string? rmName, JsonObject? rm, JsonObject accuracy) => new()
    {
        ["round"] = k,
        ["seed"] = seed,
        ["ppo_run"] = ppoName,
        ["steps"] = ppo["steps"]?.DeepClone(),
        ["reward_model"] = accuracy["before_model"]?.DeepClone(),
        ["rm/accuracy_on_policy_before"] = accuracy["before"]?.DeepClone(),
        ["rm/accuracy_on_policy_after"] = accuracy["after"]?.DeepClone(),
        ["retrained_reward_model"] = rm?["model"]?.DeepClone(),
        ["rm_run"] = rmName,
        ["rm/eval_accuracy"] = rm?["eval/accuracy"]?.DeepClone(),
        ["label/pairs"] = label["pairs"]?.DeepClone(),
        ["label/gold_agreement"] = label["gold/agreement"]?.DeepClone(),
        ["eval/gold_score"] = ppo["eval/gold_score"]?.DeepClone(),
        ["eval/win_rate_vs_sft"] = ppo["eval/win_rate_vs_ref"]?.DeepClone(),
        ["eval/kl_to_sft"] = ppo["eval/kl_to_ref"]?.DeepClone(),
        ["eval/score"] = ppo["eval/score"]?.DeepClone(),
        ["objective/kl_coef"] = ppo["objective/kl_coef"]?.DeepClone(),
    };

    private static PpoConfig PpoConfig(RoundsRun r, int seed, IReadOnlyList<string> more, string rewardModel) =>
        PipelineStages.Scaled(ConfigBinder.LoadFromText<PpoConfig>(r.StageYaml["ppo"], "examples/ppo.yaml",
            [.. r.Common, $"seed={seed}", $"model={r.SftModel}", $"reward_model={rewardModel}", .. more]), r.Pipeline);

    private static RewardConfig RmConfig(RoundsRun r, int seed, string model) =>
        PipelineStages.Scaled(ConfigBinder.LoadFromText<RewardConfig>(r.StageYaml["rm"], "examples/rm.yaml", [.. r.Common, $"seed={seed}", $"model={model}"]), r.Pipeline);

    // A sub-run whose summary.json exists is kept, as the pipeline keeps its finished stages.
    private static JsonObject Stage(RoundsRun r, string name, string dir, Func<JsonObject> run)
    {
        if (File.Exists(Path.Combine(dir, RunFolder.SummaryFileName)))
        {
            r.Log.WriteLine($"[{name}] already done in {dir}");
            return Summary(dir);
        }
        return run();
    }

    private static bool Resumable(string dir) => Directory.Exists(dir) && new CheckpointStore(dir).List().Count > 0;

    private static JsonObject Summary(string dir) => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunFolder.SummaryFileName)))!;

    private static double Seconds(JsonObject summary) => summary["time/total_s"]?.GetValue<double>() ?? 0;

    // The adaptive KL coefficient β the previous round ended with, so the next round's penalty goes on from it.
    private static double? KlBeta(string checkpoint)
    {
        var state = Path.Combine(checkpoint, CheckpointStore.StateFile);
        return File.Exists(state) && JsonNode.Parse(File.ReadAllText(state))?["kl_beta"] is JsonValue v && v.TryGetValue<double>(out var beta) ? beta : null;
    }

    // The accuracy of a reward model on a label-round's pairs, measured once and kept in the folder (a rerun reads it).
    private static void Accuracy(string labelDir, string when, string rewardModel, RewardConfig rm, PipelineConfig p)
    {
        var kept = Read(labelDir);
        if (kept.ContainsKey(when) && kept[$"{when}_model"] is JsonValue m && m.TryGetValue<string>(out var measured) && measured == rewardModel)
            return;
        kept[when] = PolicyPairAccuracy.Of(rewardModel, Path.Combine(labelDir, Labeller.OutputFileName), rm, p.Device, p.Dtype);
        kept[$"{when}_model"] = rewardModel;
        AtomicFile.WriteAllText(Path.Combine(labelDir, AccuracyFileName), kept.ToJsonString(TrainerSetup.Indented));
    }

    /// <summary>A label-round folder's kept accuracies; a file that is missing or not a JSON object (cut short, edited) is measured again.</summary>
    internal static JsonObject Read(string labelDir)
    {
        var file = Path.Combine(labelDir, AccuracyFileName);
        try
        {
            return File.Exists(file) && JsonNode.Parse(File.ReadAllText(file)) is JsonObject kept ? kept : [];
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }
}
