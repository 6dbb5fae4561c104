using System.Text.Json.Nodes;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Tests;

/// <summary>A tiny built-in-task policy that writes task-like answers of varied style, rude ones included: a few SFT steps on the noisy demonstrations.</summary>
public sealed class RudePolicyFixture : IDisposable
{
    public RudePolicyFixture()
    {
        BuiltinTaskGenerator.Write(DataDir, new BuiltinTaskOptions { TrainPrompts = 80, EvalPrompts = 8, PreferencePairs = 10, TokenizerVocabSize = 300 });
        var sft = Trainers.SftTrainer.Run(new Trainers.SftConfig
        {
            Data = DataDir,
            ModelInit = new Foundation.ModelInitSection { HiddenSize = 32, NumLayers = 2, NumHeads = 2, NumKvHeads = 1, IntermediateSize = 64, MaxPositions = 64 },
            MaxSteps = 200,
            LearningRate = 1e-2f,
            WarmupSteps = 2,
            BatchSize = 16,
            EvalPrompts = 1,
            Threads = 1,
        }, Path.Combine(Dir, "sft"), resume: false);
        SftDir = sft["model"]!.GetValue<string>();
    }

    public string Dir { get; } = Directory.CreateTempSubdirectory("hacking-").FullName;

    public string DataDir => Path.Combine(Dir, "data");

    public string SftDir { get; }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}

/// <summary>
/// The reward-hacking alarm in a real GRPO run on the built-in task: a tiny policy trained on a
/// proxy that pays for the words the gold scorer penalises ("Idiot", "Obviously"…) learns to say
/// them, so the proxy rises while gold falls; trained on the gold score itself, the alarm stays quiet.
/// </summary>
public sealed class RewardHackingRunTests(RudePolicyFixture fixture) : IClassFixture<RudePolicyFixture>
{
    private string DataDir => fixture.DataDir;

    private string SftDir => fixture.SftDir;

    private string Run(string name) => Path.Combine(fixture.Dir, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    // The proxy: 1 when the answer contains a word the gold scorer penalises (0.5 gold each).
    private GrpoConfig Config(params string[] rewardFuncs) => new()
    {
        Data = DataDir,
        Model = SftDir,
        RewardFuncs = [.. rewardFuncs],
        FormatPattern = "(?i)idiot|stupid|dumb|obviously|duh|whatever|ugh",
        FormatMatch = "search",
        BatchSize = 4,
        NumGenerations = 4,
        MiniBatchSize = 16,
        MaxSteps = 12,
        ResponseLength = 12,
        LearningRate = 5e-3f, // a smooth climb: at 3e-2 the policy can collapse to answers with no rude word, depending on the vector width's rounding
        EvalEvery = 2,
        SaveEvery = 100,
        EvalSamples = 2,
        RewardHackingWindow = 3,
        RewardHackingProxyRise = 0.1,
        RewardHackingGoldDrop = 0.05,
        Threads = 1,
    };

    private static List<JsonObject> Evaluations(string run) =>
        [.. File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).Where(l => l.ContainsKey("eval/score"))];

    private static List<string> AlarmLines(string run) =>
        [.. File.ReadLines(Path.Combine(run, "samples.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(l => l["tag"]!.GetValue<string>() == RewardHackingWatch.Tag).Select(l => l["text"]!.GetValue<string>())];

    private static string Show(string run) => string.Join("\n", Evaluations(run).Select(e => e.ToJsonString()));

    [Fact]
    public void ProxyPayingForRudeWordsFiresTheAlarmAndTheRunGoesOn()
    {
        var run = Run("hack");
        var summary = GrpoTrainer.Run(Config("format"), run, resume: false);
        var evals = Evaluations(run);
        Assert.Equal([0, 2, 4, 6, 8, 10, 12], evals.Select(e => e["step"]!.GetValue<long>()));
        // Every evaluation, the starting one included, measures the KL to the reference; at step 0 the policy is the reference.
        Assert.All(evals, e => Assert.True(e.ContainsKey("eval/kl_to_ref") && e.ContainsKey("eval/sqrt_kl"), e.ToJsonString()));
        Assert.Equal(0, evals[0]["eval/kl_to_ref"]!.GetValue<double>());
        Assert.All(evals, e => Assert.Equal(Math.Sqrt(Math.Max(0, e["eval/kl_to_ref"]!.GetValue<double>())), e["eval/sqrt_kl"]!.GetValue<double>(), 12));

        var alarm = summary["reward_hacking"]?.AsObject();
        Assert.True(alarm is not null, "the alarm did not fire:\n" + Show(run));
        long step = alarm["step"]!.GetValue<long>(), from = alarm["from_step"]!.GetValue<long>();
        var at = evals.Single(e => e["step"]!.GetValue<long>() == step);
        var start = evals.Single(e => e["step"]!.GetValue<long>() == from);
        // The summary's numbers are the window's: two evaluations (window 3) before the one that fired.
        Assert.Equal(step - 4, from);
        Assert.Equal(at["eval/score"]!.GetValue<double>() - start["eval/score"]!.GetValue<double>(), alarm["proxy_change"]!.GetValue<double>(), 12);
        Assert.Equal(at["eval/gold_score"]!.GetValue<double>() - start["eval/gold_score"]!.GetValue<double>(), alarm["gold_change"]!.GetValue<double>(), 12);
        Assert.True(alarm["proxy_change"]!.GetValue<double>() > 0.1 && alarm["gold_change"]!.GetValue<double>() < -0.05);
        Assert.Equal(1, at["eval/reward_hacking"]!.GetValue<double>());
        // Before the first alarm, no evaluation carries the metric.
        Assert.All(evals.Where(e => e["step"]!.GetValue<long>() < step), e => Assert.False(e.ContainsKey(RewardHackingWatch.Metric)));
        Assert.False(alarm["stopped"]!.GetValue<bool>());
        Assert.Equal(12, summary["steps"]!.GetValue<long>());
        Assert.Contains(AlarmLines(run), l => l.StartsWith($"reward hacking at step {step}:", StringComparison.Ordinal) && l.Contains("warn", StringComparison.Ordinal));
    }

    [Fact]
    public void AResumedRunFiresWhereTheUninterruptedOneDoes()
    {
        var whole = GrpoTrainer.Run(Config("format"), Run("whole"), resume: false);
        var alarm = whole["reward_hacking"]?.AsObject();
        Assert.True(alarm is not null, "the uninterrupted run's alarm did not fire");
        long step = alarm["step"]!.GetValue<long>(), from = alarm["from_step"]!.GetValue<long>();
        // End at the window's second evaluation and resume from there: the window's first evaluations
        // (steps from and from + 2) are only in the checkpoint.
        int cut = (int)from + 2;
        Assert.True(cut < step, $"the alarm fired at step {step}, inside its first two evaluations");
        var run = Run("resumed");
        var cfg = Config("format");
        cfg.MaxSteps = cut;
        GrpoTrainer.Run(cfg, run, resume: false);
        Assert.True(Directory.Exists(Path.Combine(run, $"checkpoint-{cut}")));
        cfg.MaxSteps = 12;
        var resumed = GrpoTrainer.Run(cfg, run, resume: true);
        var again = resumed["reward_hacking"]?.AsObject();
        Assert.True(again is not null, "the resumed run's alarm did not fire:\n" + Show(run));
        Assert.Equal(alarm.ToJsonString(), again.ToJsonString());
    }

    [Fact]
    public void TrainedOnGoldTheAlarmStaysQuiet()
    {
        var run = Run("gold");
        var summary = GrpoTrainer.Run(Config("gold"), run, resume: false);
        Assert.False(summary.ContainsKey("reward_hacking"), Show(run));
        Assert.All(Evaluations(run), e => Assert.False(e.ContainsKey(RewardHackingWatch.Metric)));
        Assert.Empty(AlarmLines(run));
        Assert.True(summary["eval/kl_to_ref"]!.GetValue<double>() > 0);
    }

    [Fact]
    public void StopEndsTheRunAtTheAlarmWithACheckpointAndTheModel()
    {
        var run = Run("stop");
        var cfg = Config("format");
        cfg.OnRewardHacking = "stop";
        cfg.MaxSteps = 16; // the alarm fires within the first 12 steps (see the warn run), before the end
        var summary = GrpoTrainer.Run(cfg, run, resume: false);
        var alarm = summary["reward_hacking"]?.AsObject();
        Assert.True(alarm is not null, "the alarm did not fire:\n" + Show(run));
        long step = alarm["step"]!.GetValue<long>();
        Assert.True(alarm["stopped"]!.GetValue<bool>());
        Assert.Equal(step, summary["steps"]!.GetValue<long>());
        Assert.True(step < cfg.MaxSteps, $"stopped at {step}, the last step anyway");
        Assert.Equal(step, Evaluations(run).Max(e => e["step"]!.GetValue<long>()));
        Assert.True(Directory.Exists(Path.Combine(run, $"checkpoint-{step}")), $"no checkpoint-{step} in {string.Join(", ", Directory.GetDirectories(run).Select(Path.GetFileName))}");
        Assert.True(File.Exists(Path.Combine(run, "model", "model.safetensors")));
        Assert.Contains(AlarmLines(run), l => l.Contains($"step {step}", StringComparison.Ordinal) && l.Contains("ends after this step's checkpoint", StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutAGoldScorerTheAlarmIsOffAndSaysSoOnce()
    {
        var run = Run("nogold");
        var cfg = Config("format");
        cfg.Data = null;
        cfg.TrainFile = Path.Combine(DataDir, "prompts_train.jsonl");
        cfg.EvalFile = Path.Combine(DataDir, "prompts_eval.jsonl");
        cfg.MaxSteps = 4;
        var summary = GrpoTrainer.Run(cfg, run, resume: false);
        Assert.False(summary.ContainsKey("eval/gold_score"));
        Assert.False(summary.ContainsKey("reward_hacking"));
        var line = Assert.Single(AlarmLines(run));
        Assert.Contains("alarm off", line, StringComparison.Ordinal);
        Assert.Contains("gold scorer", line, StringComparison.Ordinal);
    }

    [Fact]
    public void KeepBestKeepsThePolicyOfTheBestGoldScore()
    {
        var run = Run("best");
        var cfg = Config("format");
        cfg.KeepBest = true;
        var summary = GrpoTrainer.Run(cfg, run, resume: false);
        var evals = Evaluations(run);
        var top = evals.Select(e => (Step: e["step"]!.GetValue<long>(), Gold: e["eval/gold_score"]!.GetValue<double>()))
            .Aggregate((b, e) => e.Gold > b.Gold ? e : b); // the earliest of equals
        var best = summary[BestGoldKeeper.FolderName]!.AsObject();
        Assert.Equal(top.Step, best["step"]!.GetValue<long>());
        Assert.Equal(top.Gold, best["eval/gold_score"]!.GetValue<double>());
        var folder = Path.Combine(run, BestGoldKeeper.FolderName);
        Assert.Equal(folder, best["path"]!.GetValue<string>());
        Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")) && File.Exists(Path.Combine(folder, "tokenizer.json")));
        var info = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, BestGoldKeeper.InfoFile)))!;
        Assert.Equal(top.Step, info["step"]!.GetValue<long>());
        // The hacked final policy is not the best one: the kept copy differs from it unless the best was the last evaluation.
        if (top.Step != evals[^1]["step"]!.GetValue<long>())
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(run, "model", "model.safetensors")), File.ReadAllBytes(Path.Combine(folder, "model.safetensors")));

        // A damaged best.json is named, not overwritten, when the run resumes.
        File.WriteAllText(Path.Combine(folder, BestGoldKeeper.InfoFile), "{\"step\": \"ten\"}");
        File.Delete(Path.Combine(run, "summary.json"));
        cfg.MaxSteps = 14;
        var e = Assert.Throws<Foundation.TrainingSetupException>(() => GrpoTrainer.Run(cfg, run, resume: true));
        Assert.Contains(BestGoldKeeper.InfoFile, e.Message, StringComparison.Ordinal);
        Assert.Contains("eval/gold_score", e.Message, StringComparison.Ordinal);
    }
}
