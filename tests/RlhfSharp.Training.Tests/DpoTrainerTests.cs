using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Tests;

/// <summary><c>rlhf dpo</c> on a small built-in task with a tiny model, and the DPO loss's gradient through that model.</summary>
public sealed class DpoTrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("dpo-").FullName;
    private readonly BpeTokenizer _tokenizer;

    public DpoTrainerTests()
    {
        BuiltinTaskGenerator.Write(DataDir, new BuiltinTaskOptions { TrainPrompts = 120, EvalPrompts = 12, PreferencePairs = 96, TokenizerVocabSize = 320 });
        _tokenizer = BpeTokenizer.FromDirectory(Path.Combine(DataDir, "tokenizer"));
        var sft = new CausalLM(new ModelConfig
        {
            ModelType = "llama",
            VocabSize = _tokenizer.VocabSize,
            HiddenSize = 32,
            NumLayers = 2,
            NumHeads = 2,
            NumKeyValueHeads = 1,
            IntermediateSize = 48,
            MaxPositions = 64,
        }, new Generator(3));
        PretrainedIO.Save(sft, SftDir);
        _tokenizer.Save(SftDir);
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string SftDir => Path.Combine(_dir, "sft");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private DpoConfig Config() => new()
    {
        Data = DataDir,
        Model = SftDir,
        BatchSize = 8,
        MaxSteps = 30,
        LearningRate = 5e-3f,
        WarmupSteps = 2,
        EvalEvery = 15,
        SaveEvery = 15,
        EvalPrompts = 6,
        MaxNewTokens = 6,
        LogEvery = 2,
        Threads = 1,
    };

    [Fact]
    public void DpoRaisesTheChosenOverRejectedMarginAndWritesTheRunFolder()
    {
        var run = Path.Combine(_dir, "run");
        var summary = DpoTrainer.Run(Config(), run, resume: false);
        foreach (var key in new[] { "time/total_s", "eval/gold_score", "eval/win_rate_vs_ref", "eval/rewards/accuracies", "eval/rewards/margins", "model" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        var lines = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        var train = lines.Where(l => l.ContainsKey("rewards/margins")).ToList();
        Assert.NotEmpty(train);
        foreach (var key in new[] { "rewards/chosen", "rewards/rejected", "rewards/accuracies", "logps/chosen", "logps/rejected", "train/loss" })
            Assert.True(train[0].ContainsKey(key), $"missing {key}");
        // At step 0 the policy is the reference: every implicit reward is 0, the loss is log 2.
        var first = lines.First(l => l.ContainsKey("eval/loss"));
        Assert.Equal(Math.Log(2), first["eval/loss"]!.GetValue<double>(), 5);
        Assert.Equal(0.0, first["eval/rewards/margins"]!.GetValue<double>(), 6);
        // Training on the pairs separates them: the train margin grows and ends positive.
        double early = train.Take(3).Average(l => l["rewards/margins"]!.GetValue<double>());
        double late = train.TakeLast(3).Average(l => l["rewards/margins"]!.GetValue<double>());
        Assert.True(late > early && late > 0, $"margins {early} -> {late}");
    }

    [Fact]
    public void TheLossGradientThroughATinyModelMatchesFiniteDifferences()
    {
        var cfg = Config();
        var model = PretrainedIO.LoadCausalLM(SftDir);
        var pairs = PreferenceDataset.Load(Path.Combine(DataDir, "prefs_train.jsonl"), new DataLoadOptions()).Take(3).ToList();
        var batch = new PreferenceCollator(_tokenizer, ChatTemplate.Get("chatml"), new CollatorOptions { MaxLength = 48, MaxPromptLength = 32, PadTokenId = _tokenizer.PadTokenId }).Collate(pairs);
        // A reference that differs from the policy, so the loss sits away from its symmetric point.
        (float, float)[] reference = [(-30f, -28f), (-25f, -31f), (-40f, -39f)];
        foreach (var lossType in new[] { "sigmoid", "ipo" })
        {
            cfg.LossType = lossType;
            cfg.Beta = 0.5f;
            foreach (var p in model.TrainableParameters())
                p.Grad = null;
            DpoTrainer.Loss(model, batch, reference, cfg).Loss.Backward();
            // Probe a few weights of different layers with central differences.
            foreach (var (name, param) in model.NamedParameters().Where((_, i) => i % 5 == 0).Take(4))
            {
                var w = param.Value;
                var data = w.ToArray();
                int k = data.Length / 3;
                float analytic = w.Grad!.ToArray()[k];
                double Loss(float delta)
                {
                    var copy = (float[])data.Clone();
                    copy[k] += delta;
                    param.Assign(Tensor.FromArray(copy, w.Shape));
                    using var _ = Tensors.Autograd.GradMode.NoGrad();
                    return DpoTrainer.Loss(model, batch, reference, cfg).Loss.Item();
                }
                const float h = 1e-2f;
                double numeric = (Loss(h) - Loss(-h)) / (2 * h);
                param.Assign(Tensor.FromArray(data, w.Shape));
                // fp32 forward passes: central differences are good to about 1e-3 absolute here.
                Assert.True(Math.Abs(numeric - analytic) <= 2e-3 + (0.03 * Math.Abs(numeric)), $"{lossType} {name}[{k}]: analytic {analytic}, numeric {numeric}");
            }
        }
    }

    [Fact]
    public void RpoAddsAlphaTimesTheChosenTokenNll()
    {
        var cfg = Config();
        var model = PretrainedIO.LoadCausalLM(SftDir);
        var pairs = PreferenceDataset.Load(Path.Combine(DataDir, "prefs_train.jsonl"), new DataLoadOptions()).Take(3).ToList();
        var batch = new PreferenceCollator(_tokenizer, ChatTemplate.Get("chatml"), new CollatorOptions { MaxLength = 48, MaxPromptLength = 32, PadTokenId = _tokenizer.PadTokenId }).Collate(pairs);
        (float, float)[] reference = [(-30f, -28f), (-25f, -31f), (-40f, -39f)];
        using var _ = Tensors.Autograd.GradMode.NoGrad();
        double plain = DpoTrainer.Loss(model, batch, reference, cfg).Loss.Item();
        cfg.RpoAlpha = 0.5f;
        double rpo = DpoTrainer.Loss(model, batch, reference, cfg).Loss.Item();
        // The NLL per chosen token, computed independently: cross-entropy over the chosen response tokens.
        var logits = model.Forward(batch.Chosen.InputIds, batch.Chosen.AttentionMask);
        int t = batch.Chosen.InputIds.Size(1);
        var ids = batch.Chosen.InputIds.ToIntArray();
        var resp = batch.Chosen.ResponseMask.ToArray();
        var labels = new int[3 * (t - 1)];
        for (int r = 0; r < 3; r++)
            for (int i = 1; i < t; i++)
                labels[(r * (t - 1)) + i - 1] = resp[(r * t) + i] > 0 ? ids[(r * t) + i] : -100;
        double nll = F.CrossEntropy(logits.Narrow(1, 0, t - 1).Reshape(-1, logits.Size(2)), Tensor.FromArray(labels, labels.Length)).Item();
        Assert.Equal(plain + (0.5 * nll), rpo, 4);
    }

    [Fact]
    public void BadSettingsNameTheirKey()
    {
        var cfg = Config();
        cfg.LossType = "hinge";
        Assert.Contains(cfg.Validate(), p => p.Contains("loss_type", StringComparison.Ordinal));
        cfg = Config();
        cfg.LossType = "ipo";
        cfg.LabelSmoothing = 0.1f;
        Assert.Contains(cfg.Validate(), p => p.Contains("label_smoothing", StringComparison.Ordinal));
        cfg = Config();
        cfg.Model = null;
        Assert.Contains(cfg.Validate(), p => p.Contains("model is required", StringComparison.Ordinal));
    }
}
