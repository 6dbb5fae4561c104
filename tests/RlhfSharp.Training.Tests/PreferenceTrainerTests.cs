using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Tests;

/// <summary><c>rlhf kto</c>, <c>rlhf orpo</c> and <c>rlhf simpo</c> on a small built-in task with a tiny model.</summary>
public sealed class PreferenceTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("preftrain-").FullName;

    public PreferenceTrainerTests()
    {
        BuiltinTaskGenerator.Write(DataDir, new BuiltinTaskOptions { TrainPrompts = 120, EvalPrompts = 12, PreferencePairs = 96, TokenizerVocabSize = 320 });
        var tokenizer = BpeTokenizer.FromDirectory(Path.Combine(DataDir, "tokenizer"));
        var sft = new CausalLM(new ModelConfig
        {
            ModelType = "llama",
            VocabSize = tokenizer.VocabSize,
            HiddenSize = 32,
            NumLayers = 2,
            NumHeads = 2,
            NumKeyValueHeads = 1,
            IntermediateSize = 48,
            MaxPositions = 64,
        }, new Generator(3));
        PretrainedIO.Save(sft, SftDir);
        tokenizer.Save(SftDir);
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string SftDir => Path.Combine(_dir, "sft");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private T Config<T>(T cfg)
        where T : PreferenceTrainConfig
    {
        cfg.Data = DataDir;
        cfg.Model = SftDir;
        cfg.BatchSize = 8;
        cfg.MaxSteps = 24;
        cfg.LearningRate = 5e-3f;
        cfg.WarmupSteps = 2;
        cfg.EvalEvery = 12;
        cfg.SaveEvery = 12;
        cfg.EvalPrompts = 4;
        cfg.MaxNewTokens = 6;
        cfg.LogEvery = 2;
        cfg.Threads = 1;
        return cfg;
    }

    private static List<JsonObject> Metrics(string run)
        => [.. File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject())];

    private static double Early(List<JsonObject> train, string key) => train.Take(3).Average(l => l[key]!.GetValue<double>());

    private static double Late(List<JsonObject> train, string key) => train.TakeLast(3).Average(l => l[key]!.GetValue<double>());

    private static void AssertRunFolder(JsonObject summary, int modelsLoaded)
    {
        foreach (var key in new[] { "time/total_s", "eval/gold_score", "eval/gold_score_ref", "eval/win_rate_vs_ref", "eval/loss", "eval/rewards/margins", "model" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        Assert.Equal(modelsLoaded, summary["models_loaded"]!.GetValue<int>());
        Assert.True(File.Exists(Path.Combine(summary["model"]!.GetValue<string>(), "model.safetensors")));
    }

    [Fact]
    public void KtoRaisesDesirableOverUndesirableRewardsAgainstItsReference()
    {
        var run = Path.Combine(_dir, "kto");
        var summary = KtoTrainer.Run(Config(new KtoConfig()), run, resume: false);
        AssertRunFolder(summary, modelsLoaded: 2);
        var lines = Metrics(run);
        // At step 0 the policy is the reference: every ρ and z_ref are 0, so each example costs σ(0) = 0.5.
        var first = lines.First(l => l.ContainsKey("eval/loss"));
        Assert.Equal(0.5, first["eval/loss"]!.GetValue<double>(), 6);
        Assert.Equal(0.0, first["eval/kl"]!.GetValue<double>(), 6);
        var train = lines.Where(l => l.ContainsKey("count/chosen")).ToList();
        foreach (var key in new[] { "train/loss", "kl", "rewards/chosen", "rewards/rejected", "rewards/margins", "logps/chosen", "logps/rejected", "count/rejected" })
            Assert.True(train[0].ContainsKey(key), $"missing {key}");
        // The paired file is unpaired: a batch of 8 pairs' halves holds both labels, 8 in all.
        Assert.Equal(8, train[0]["count/chosen"]!.GetValue<double>() + train[0]["count/rejected"]!.GetValue<double>());
        Assert.True(Late(train, "rewards/margins") > Early(train, "rewards/margins") && Late(train, "rewards/margins") > 0,
            $"margins {Early(train, "rewards/margins")} -> {Late(train, "rewards/margins")}");
        Assert.True(Late(train, "train/loss") < Early(train, "train/loss"), $"loss {Early(train, "train/loss")} -> {Late(train, "train/loss")}");
    }

    [Fact]
    public void OrpoLowersItsLossAndSeparatesThePairsWithoutAReference()
    {
        var run = Path.Combine(_dir, "orpo");
        var cfg = Config(new OrpoConfig());
        cfg.Beta = 0.5f;
        var summary = OrpoTrainer.Run(cfg, run, resume: false);
        AssertRunFolder(summary, modelsLoaded: 1);
        var train = Metrics(run).Where(l => l.ContainsKey("log_odds_ratio")).ToList();
        foreach (var key in new[] { "train/loss", "nll_loss", "log_odds_chosen", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected" })
            Assert.True(train[0].ContainsKey(key), $"missing {key}");
        Assert.True(Late(train, "train/loss") < Early(train, "train/loss"), $"loss {Early(train, "train/loss")} -> {Late(train, "train/loss")}");
        Assert.True(Late(train, "log_odds_chosen") > Early(train, "log_odds_chosen") && Late(train, "log_odds_chosen") > 0,
            $"log odds {Early(train, "log_odds_chosen")} -> {Late(train, "log_odds_chosen")}");
        Assert.True(Late(train, "nll_loss") < Early(train, "nll_loss"));
    }

    [Fact]
    public void SimpoRaisesTheLengthNormalisedMarginWithoutAReference()
    {
        var run = Path.Combine(_dir, "simpo");
        var cfg = Config(new SimpoConfig());
        cfg.CpoAlpha = 0.2f;
        var summary = SimpoTrainer.Run(cfg, run, resume: false);
        AssertRunFolder(summary, modelsLoaded: 1);
        var train = Metrics(run).Where(l => l.ContainsKey("rewards/margins")).ToList();
        foreach (var key in new[] { "train/loss", "nll_loss", "rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen", "logps/rejected" })
            Assert.True(train[0].ContainsKey(key), $"missing {key}");
        Assert.True(Late(train, "rewards/margins") > Early(train, "rewards/margins") && Late(train, "rewards/margins") > 0,
            $"margins {Early(train, "rewards/margins")} -> {Late(train, "rewards/margins")}");
        Assert.True(Late(train, "train/loss") < Early(train, "train/loss"));
    }

    [Fact]
    public void KtoResumesBitIdentically()
    {
        KtoConfig Short(int steps)
        {
            var cfg = Config(new KtoConfig());
            cfg.MaxSteps = steps;
            cfg.SaveEvery = 3;
            cfg.EvalEvery = 0;
            cfg.LrScheduler = "constant"; // the schedule must not depend on max_steps for the split run to match
            return cfg;
        }
        var straight = Path.Combine(_dir, "kto-straight");
        KtoTrainer.Run(Short(6), straight, resume: false);
        var split = Path.Combine(_dir, "kto-split");
        KtoTrainer.Run(Short(3), split, resume: false);
        File.Delete(Path.Combine(split, "summary.json"));
        KtoTrainer.Run(Short(6), split, resume: true);
        static float[][] Weights(string run) => [.. PretrainedIO.LoadCausalLM(Path.Combine(run, "model")).NamedParameters().Select(p => p.Param.Value.ToArray())];
        Assert.Equal(Weights(straight), Weights(split));
        Assert.NotEqual(Weights(straight), [.. PretrainedIO.LoadCausalLM(SftDir).NamedParameters().Select(p => p.Param.Value.ToArray())]);
    }

    [Fact]
    public void BadSettingsNameTheirKey()
    {
        var kto = Config(new KtoConfig());
        kto.DesirableWeight = 0;
        Assert.Contains(kto.Validate(), p => p.Contains("desirable_weight", StringComparison.Ordinal));
        var orpo = Config(new OrpoConfig());
        orpo.Beta = -1;
        Assert.Contains(orpo.Validate(), p => p.Contains("beta", StringComparison.Ordinal));
        var simpo = Config(new SimpoConfig());
        simpo.SimpoGamma = -0.5f;
        simpo.LabelSmoothing = 0.5f;
        var problems = simpo.Validate().ToList();
        Assert.Contains(problems, p => p.Contains("simpo_gamma", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("label_smoothing", StringComparison.Ordinal));
        simpo = Config(new SimpoConfig());
        simpo.Model = null;
        Assert.Contains(simpo.Validate(), p => p.Contains("model is required", StringComparison.Ordinal));
        Assert.Empty(Config(new SimpoConfig()).Validate());
    }
}
