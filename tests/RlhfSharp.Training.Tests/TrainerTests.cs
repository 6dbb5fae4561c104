using System.Text.Json.Nodes;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Tests;

/// <summary>The SFT and reward trainers end to end on a small built-in task with a tiny model.</summary>
public sealed class TrainerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trainers-").FullName;

    public TrainerTests()
    {
        BuiltinTaskGenerator.Write(DataDir, new BuiltinTaskOptions { TrainPrompts = 240, EvalPrompts = 24, PreferencePairs = 240, TokenizerVocabSize = 320 });
    }

    private string DataDir => Path.Combine(_dir, "data");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ModelInitSection Tiny() => new() { HiddenSize = 32, NumLayers = 2, NumHeads = 2, NumKvHeads = 1, IntermediateSize = 64, MaxPositions = 96 };

    private SftConfig Sft() => new()
    {
        Data = DataDir,
        ModelInit = Tiny(),
        MaxSteps = 60,
        WarmupSteps = 4,
        LearningRate = 1e-2f,
        BatchSize = 16,
        EvalEvery = 30,
        SaveEvery = 30,
        EvalPrompts = 12,
        MaxNewTokens = 8,
        Threads = 1,
    };

    private static List<JsonObject> Metrics(string runDir) =>
        File.ReadLines(Path.Combine(runDir, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Fact]
    public void SftWritesAFullRunFolderAndLearns()
    {
        var run = Path.Combine(_dir, "sft");
        var summary = SftTrainer.Run(Sft(), run, resume: false);

        foreach (var key in new[] { "time/total_s", "eval/loss", "eval/gold_score", "eval/win_rate_vs_ref" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        var lines = Metrics(run);
        var evalLosses = lines.Where(l => l.ContainsKey("eval/loss")).Select(l => l["eval/loss"]!.GetValue<double>()).ToList();
        Assert.True(evalLosses[^1] < evalLosses[0] * 0.6, $"held-out loss should fall: {string.Join(", ", evalLosses)}");
        Assert.Contains(lines, l => l.ContainsKey("train/loss"));
        Assert.Single(Directory.GetFiles(Path.Combine(run, "tensorboard"), "events.out.tfevents.*"));
        Assert.True(File.ReadLines(Path.Combine(run, "samples.jsonl")).Any());

        // The final model is an HF folder with its tokenizer, and it loads.
        var model = PretrainedIO.LoadCausalLM(Path.Combine(run, "model"));
        Assert.Equal(32, model.Config.HiddenSize);
        Assert.True(File.Exists(Path.Combine(run, "model", "tokenizer.json")));
        // The resolved config reads back to the same settings.
        var back = ConfigBinder.Load<SftConfig>(Path.Combine(run, "config.resolved.yaml"), Array.Empty<string>());
        Assert.Equal(60, back.MaxSteps);
        Assert.Equal(32, back.ModelInit.HiddenSize);
    }

    [Fact]
    public void AnExistingRunIsNotOverwrittenWithoutResume()
    {
        var run = Path.Combine(_dir, "sft");
        var cfg = Sft();
        cfg.MaxSteps = 4;
        cfg.WarmupSteps = 1;
        cfg.EvalPrompts = 2;
        SftTrainer.Run(cfg, run, resume: false);
        var ex = Assert.Throws<TrainingSetupException>(() => SftTrainer.Run(cfg, run, resume: false));
        Assert.Contains("--resume", ex.Message);
        // Resuming a finished run does no more steps and keeps its result.
        var again = SftTrainer.Run(cfg, run, resume: true);
        Assert.Equal(4, again["steps"]!.GetValue<long>());
    }

    [Fact]
    public void RewardModelLearnsAClearPreferenceAndSavesAScoreHead()
    {
        // A preference a tiny model can learn in a few dozen steps: polite answers over rude ones.
        var prompts = File.ReadLines(Path.Combine(DataDir, "prompts_train.jsonl")).Select(l => JsonNode.Parse(l)!["prompt"]!.GetValue<string>()).ToList();
        string[] polite = ["The answer is 4.", "Sure, it is 7.", "It is 12."];
        string[] rude = ["Obviously 4, idiot.", "Ugh, whatever, 7.", "Duh, it is 12, dumb question."];
        void Write(string file, IEnumerable<string> ps) => File.WriteAllLines(Path.Combine(_dir, file), ps.Select((p, i) =>
            new JsonObject { ["prompt"] = p, ["chosen"] = polite[i % 3], ["rejected"] = rude[(i / 3) % 3] }.ToJsonString()));
        Write("prefs_train.jsonl", prompts.Take(200));
        Write("prefs_eval.jsonl", prompts.Skip(200).Take(40));

        var run = Path.Combine(_dir, "rm");
        var cfg = new RewardConfig
        {
            TrainFile = Path.Combine(_dir, "prefs_train.jsonl"),
            EvalFile = Path.Combine(_dir, "prefs_eval.jsonl"),
            Tokenizer = Path.Combine(DataDir, "tokenizer"),
            ModelInit = Tiny(),
            MaxSteps = 40,
            WarmupSteps = 4,
            LearningRate = 3e-3f,
            BatchSize = 16,
            EvalEvery = 20,
            SaveEvery = 20,
            Threads = 1,
        };
        var summary = RewardTrainer.Run(cfg, run, resume: false);
        Assert.True(summary["eval/accuracy"]!.GetValue<double>() >= 0.9, $"accuracy {summary["eval/accuracy"]}");
        var losses = Metrics(run).Where(l => l.ContainsKey("eval/loss")).Select(l => l["eval/loss"]!.GetValue<double>()).ToList();
        Assert.True(losses[^1] < 0.5 * losses[0], $"held-out loss should fall: {string.Join(", ", losses)}");
        Assert.True(summary["eval/rewards_chosen_mean"]!.GetValue<double>() > summary["eval/rewards_rejected_mean"]!.GetValue<double>());
        using var st = SafeTensorsFile.Open(Path.Combine(run, "model", "model.safetensors"));
        Assert.Equal([1, 32], st.Entry("score.weight").Shape);
        Assert.Contains("ForSequenceClassification", File.ReadAllText(Path.Combine(run, "model", "config.json")));

        // The same pairs labelled as ties ("equally good") undo the preference: the label ½ pulls the two
        // rewards together, so the margin the model had learnt shrinks.
        File.WriteAllLines(Path.Combine(_dir, "ties.jsonl"), prompts.Take(200).Select((p, i) =>
            new JsonObject { ["prompt"] = p, ["response_a"] = polite[i % 3], ["response_b"] = rude[(i / 3) % 3] }.ToJsonString()));
        File.WriteAllLines(Path.Combine(_dir, "one_pref.jsonl"), [File.ReadLines(Path.Combine(_dir, "prefs_train.jsonl")).First()]);
        double margin = summary["eval/rewards_chosen_mean"]!.GetValue<double>() - summary["eval/rewards_rejected_mean"]!.GetValue<double>();
        cfg.Model = Path.Combine(run, "model");
        cfg.TrainFile = Path.Combine(_dir, "one_pref.jsonl");
        cfg.TiesFiles = [Path.Combine(_dir, "ties.jsonl")];
        var tied = RewardTrainer.Run(cfg, Path.Combine(_dir, "rm_ties"), resume: false);
        Assert.Equal(200, tied["data/train_ties"]!.GetValue<int>());
        Assert.Equal(1, tied["data/train_pairs"]!.GetValue<int>());
        double tiedMargin = tied["eval/rewards_chosen_mean"]!.GetValue<double>() - tied["eval/rewards_rejected_mean"]!.GetValue<double>();
        Assert.True(Math.Abs(tiedMargin) < 0.3 * margin, $"margin {margin} before the ties, {tiedMargin} after");
        cfg.TiesFiles = [Path.Combine(_dir, "no_ties.jsonl")];
        var missing = Assert.Throws<TrainingSetupException>(() => RewardTrainer.Run(cfg, Path.Combine(_dir, "rm_missing"), resume: false));
        Assert.Contains("ties_files[0]", missing.Message);
    }

    [Fact]
    public void MissingDataFilesAreClearErrors()
    {
        var cfg = Sft();
        cfg.Data = Path.Combine(_dir, "nowhere");
        var ex = Assert.Throws<TrainingSetupException>(() => SftTrainer.Run(cfg, Path.Combine(_dir, "x"), resume: false));
        Assert.Contains("sft_train.jsonl", ex.Message);
        Assert.Contains("train_file", ex.Message);
    }
}
