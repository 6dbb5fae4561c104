using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Pipeline;
using RlhfSharp.Training.Rl;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Tests;

/// <summary>The pipeline's <c>rounds</c> (iterated RLHF): its config errors, folders, tables and kept files.</summary>
public sealed class PipelineRoundsTests : IDisposable
{
    private readonly string _dir = TempFolders.Create("rounds");

    public void Dispose() => TempFolders.Delete(_dir);

    private static ConfigException Refused(string yaml) =>
        Assert.Throws<ConfigException>(() => ConfigBinder.LoadFromText<PipelineConfig>(yaml, "pipeline.yaml"));

    [Fact]
    public void RoundsBelowOneAreRefused()
    {
        Assert.Contains("rounds must be at least 1 (1 = one PPO run; N > 1 = N rounds of PPO, labelling and reward-model training), got 0", Refused("rounds: 0\n").Message);
        Assert.Contains("round_rm_steps must be at least 1, got 0", Refused("rounds: 2\nround_rm_steps: 0\n").Message);
    }

    [Fact]
    public void RoundsWithoutThePpoStageAreRefused()
    {
        var e = Refused("rounds: 3\nstages: [sft, dpo]\n");
        Assert.Contains("rounds: 3 runs the ppo stage in rounds, but stages ([sft, dpo]) has no ppo; add ppo (and rm) to stages or set rounds: 1", e.Message);
        // One round is today's pipeline, with or without ppo.
        Assert.Equal(1, ConfigBinder.LoadFromText<PipelineConfig>("stages: [sft, dpo]\n", "pipeline.yaml").Rounds);
    }

    [Fact]
    public void RoundsNeedDataWithTheGoldScorerToLabelWith()
    {
        var e = Refused($"rounds: 2\ndata: {_dir}\nmodel: m\n");
        Assert.Contains($"rounds: 2 labels each round's answers with the built-in task's simulated labeller, but data ({_dir}) has no gold scorer (no stats.json of `rlhf data builtin`)", e.Message);
        // A stats.json that is not JSON is no gold scorer either: the refusal says what is wrong with it.
        File.WriteAllText(Path.Combine(_dir, BuiltinTaskGenerator.StatsFileName), "{\"task\": ");
        Assert.Contains($"has no gold scorer ({Path.Combine(_dir, BuiltinTaskGenerator.StatsFileName)}: not valid JSON", Refused($"rounds: 2\ndata: {_dir}\nmodel: m\n").Message);
        File.WriteAllText(Path.Combine(_dir, BuiltinTaskGenerator.StatsFileName), "{\"task\": \"another-task\"}");
        Assert.Contains("has no gold scorer", Refused($"rounds: 2\ndata: {_dir}\nmodel: m\n").Message);
        File.WriteAllText(Path.Combine(_dir, BuiltinTaskGenerator.StatsFileName), $"{{\"task\": \"{GoldScorer.TaskMarker}\"}}");
        Assert.Equal(2, ConfigBinder.LoadFromText<PipelineConfig>($"rounds: 2\ndata: {_dir}\nmodel: m\n", "pipeline.yaml").Rounds);
    }

    [Fact]
    public void ARefModelWithLoraIsRefused()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigBinder.LoadFromText<PpoConfig>("data: d\nmodel: m\nreward_model: r\nref_model: s\nlora_rank: 4\n", "ppo.yaml"));
        Assert.Contains("ref_model: with lora_rank > 0 the reference is the policy with its adapters off", e.Message);
        Assert.Equal("s", ConfigBinder.LoadFromText<PpoConfig>("data: d\nmodel: m\nreward_model: r\nref_model: s\n", "ppo.yaml").RefModel);
    }

    [Fact]
    public void RoundFoldersFollowTheSeedsFolders()
    {
        Assert.Equal("ppo-round1", PpoRounds.Folder("ppo", "ppo", 1));
        Assert.Equal("rm-round2", PpoRounds.Folder("rm", "ppo", 2));
        Assert.Equal("label-seed3-round2", PpoRounds.Folder("label", "ppo-seed3", 2));
    }

    [Fact]
    public void TheRewardModelLeavesOutLabelFilesWithoutPairs()
    {
        // Round 1's labeller tied every pair (an empty prefs file), round 2's wrote one pair and no tie.
        string a = Path.Combine(_dir, "label-round1"), b = Path.Combine(_dir, "label-round2");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        File.WriteAllText(Path.Combine(a, Labeller.OutputFileName), "");
        File.WriteAllText(Path.Combine(a, Labeller.TiesFileName), "{\"prompt\": \"p\", \"response_a\": \"x\", \"response_b\": \"y\"}\n");
        File.WriteAllText(Path.Combine(b, Labeller.OutputFileName), "{\"prompt\": \"p\", \"chosen\": \"x\", \"rejected\": \"y\"}\n");
        File.WriteAllText(Path.Combine(b, Labeller.TiesFileName), "");
        var cfg = PipelineRunner.WithLabels(new RewardConfig(), [a, b]);
        Assert.Equal([Path.Combine(b, Labeller.OutputFileName)], cfg.ExtraTrainFiles);
        Assert.Equal([Path.Combine(a, Labeller.TiesFileName)], cfg.TiesFiles);
    }

    [Fact]
    public void KeptAccuraciesThatCannotBeReadAreMeasuredAgain()
    {
        Assert.Empty(PpoRounds.Read(_dir));
        File.WriteAllText(Path.Combine(_dir, PpoRounds.AccuracyFileName), "{\"before\": 0.5, ");
        Assert.Empty(PpoRounds.Read(_dir));
        File.WriteAllText(Path.Combine(_dir, PpoRounds.AccuracyFileName), "[0.5]");
        Assert.Empty(PpoRounds.Read(_dir));
        File.WriteAllText(Path.Combine(_dir, PpoRounds.AccuracyFileName), "{\"before\": 0.5, \"before_model\": \"rm/model\"}");
        Assert.Equal(0.5, PpoRounds.Read(_dir)["before"]!.GetValue<double>());
    }

    [Fact]
    public void TheRoundsTableHasARowARoundAndADashForWhatWasNotMeasured()
    {
        var policies = (JsonArray)JsonNode.Parse("""
            [{"policy": "sft"},
             {"policy": "ppo", "rounds": [
               {"round": 1, "rm/accuracy_on_policy_before": 0.61, "rm/accuracy_on_policy_after": 0.7249, "eval/gold_score": -0.5, "eval/win_rate_vs_sft": 0.55, "eval/kl_to_sft": 1.234},
               {"round": 2, "rm/accuracy_on_policy_before": 0.66, "rm/accuracy_on_policy_after": null, "eval/gold_score": -0.25, "eval/win_rate_vs_sft": 0.6, "eval/kl_to_sft": 2}]}]
            """)!;
        var text = RoundsTable.Markdown(policies);
        Assert.Contains("| round | RM accuracy before | RM accuracy after | gold score | win rate vs SFT | KL to SFT |", text);
        Assert.Contains("| 1 | 0.610 | 0.725 | -0.500 | 0.550 | 1.23 |", text);
        Assert.Contains("| 2 | 0.660 | — | -0.250 | 0.600 | 2.00 |", text);
        Assert.Equal("", RoundsTable.Markdown((JsonArray)JsonNode.Parse("[{\"policy\": \"ppo\"}]")!));
    }
}
