using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.TestSupport;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using static RlhfSharp.TestSupport.CliRun;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// Training runs whose loss, gradients or weights go NaN or infinite: with on_nonfinite: stop the
/// run ends at that step with exit code 3, naming the step and the last good checkpoint, and writes
/// no model; with skip it drops such updates and finishes, or gives up when they keep coming.
/// </summary>
public sealed class NonFiniteRunTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nonfinite-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteData()
    {
        var data = Path.Combine(_dir, "data");
        BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 60, EvalPrompts = 8, PreferencePairs = 60, TokenizerVocabSize = 300 });
        return data;
    }

    // learning_rate 1e30 (no warm-up): the first update leaves huge weights and the second step's gradients are NaN.
    private static readonly string[] TinyInit =
    [
        "--model_init.hidden_size", "32", "--model_init.num_layers", "1", "--model_init.num_heads", "2",
        "--model_init.num_kv_heads", "1", "--model_init.intermediate_size", "64",
    ];

    private static readonly string[] Absurd =
    [
        "--learning_rate", "1e30", "--warmup_steps", "0", "--lr_scheduler", "constant", "--log_every", "1", "--batch_size", "8",
        "--eval_prompts", "2", "--max_new_tokens", "2", .. TinyInit,
    ];

    private static List<JsonObject> Metrics(string run) =>
        [.. File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject())];

    [Fact]
    public void ADivergedRunStopsWithItsOwnExitCodeNamingTheStepAndTheLastGoodCheckpoint()
    {
        var data = WriteData();
        var run = Path.Combine(_dir, "run");
        var (code, _, err) = Run(["sft", "--data", data, "--out", run, "--max_steps", "6", "--save_every", "1", .. Absurd]);

        Assert.True(code == ExitCodes.Diverged, $"exit {code}: {err}");
        Assert.Contains("diverged at step 2", err);
        Assert.Contains("gradient norm", err);
        var checkpoint = Path.Combine(run, "checkpoint-1");
        Assert.Contains(checkpoint, err);
        Assert.DoesNotContain("   at ", err); // the message alone, no stack trace
        Assert.True(File.Exists(Path.Combine(checkpoint, "trainer_state.json")), "the last good checkpoint is kept");
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoint-2")));
        Assert.False(Directory.Exists(Path.Combine(run, "model")), "no model is written for a diverged run");
        Assert.False(File.Exists(Path.Combine(run, "summary.json")));
        // The metrics logged before the bad step are kept, and none of them is NaN.
        var steps = Metrics(run).Where(m => m.ContainsKey("train/loss")).ToList();
        Assert.Equal([1L], steps.Select(m => m["step"]!.GetValue<long>()));
        Assert.True(double.IsFinite(steps[0]["train/grad_norm"]!.GetValue<double>()));
        // The checkpoint itself loads: it is the one to resume from.
        Assert.NotNull(PretrainedIO.LoadCausalLM(Path.Combine(checkpoint, "policy")));
    }

    [Theory]
    [InlineData("rm")]
    [InlineData("dpo")]
    [InlineData("ppo")]
    [InlineData("grpo")]
    public void EveryTrainerStopsAtADivergedUpdate(string verb)
    {
        var data = WriteData();
        var (sft, rm) = TinyModels.Write(_dir, data);
        var run = Path.Combine(_dir, verb);
        string[] common = [verb, "--data", data, "--out", run, "--max_steps", "6", "--save_every", "0", "--learning_rate", "1e30", "--warmup_steps", "0", "--lr_scheduler", "constant"];
        string[] rl = ["--model", sft, "--reward_model", rm, "--response_length", "4", "--eval_prompts", "2"];
        string[] flags = verb switch
        {
            "rm" => [.. common, .. TinyInit, "--batch_size", "8"],
            "dpo" => [.. common, "--model", sft, "--batch_size", "8", "--eval_prompts", "2", "--max_new_tokens", "2"],
            "ppo" => [.. common, .. rl, "--batch_size", "8", "--mini_batch_size", "4"],
            _ => [.. common, .. rl, "--batch_size", "4", "--num_generations", "4", "--mini_batch_size", "8"],
        };
        var (code, _, err) = Run(flags);
        Assert.True(code == ExitCodes.Diverged, $"exit {code}: {err}");
        Assert.Contains($"{verb} diverged at step ", err);
        Assert.Contains("none saved yet", err);
        Assert.False(Directory.Exists(Path.Combine(run, "model")), "no model is written for a diverged run");
    }

    [Fact]
    public void WithNoCheckpointYetTheMessageSaysSo()
    {
        var data = WriteData();
        var run = Path.Combine(_dir, "run");
        var (code, _, err) = Run(["sft", "--data", data, "--out", run, "--max_steps", "6", "--save_every", "0", .. Absurd]);
        Assert.True(code == ExitCodes.Diverged, $"exit {code}: {err}");
        Assert.Contains("diverged at step 2", err);
        Assert.Contains("none saved yet", err);
        Assert.False(Directory.Exists(Path.Combine(run, "model")));
    }

    [Fact]
    public void SkippingGivesUpWhenEveryUpdateStaysBad()
    {
        var data = WriteData();
        var run = Path.Combine(_dir, "run");
        var (code, _, err) = Run(["sft", "--data", data, "--out", run, "--max_steps", "20", "--save_every", "0",
            "--on_nonfinite", "skip", "--max_nonfinite_skips", "2", .. Absurd]);

        // Step 1 updates, steps 2 and 3 are skipped, step 4 is the third bad update in a row.
        Assert.True(code == ExitCodes.Diverged, $"exit {code}: {err}");
        Assert.Contains("diverged at step 4", err);
        Assert.Contains("max_nonfinite_skips: 2", err);
        Assert.False(Directory.Exists(Path.Combine(run, "model")));
        var skips = Metrics(run).Where(m => m.ContainsKey("train/nonfinite_skips")).ToDictionary(m => m["step"]!.GetValue<long>(), m => m["train/nonfinite_skips"]!.GetValue<double>());
        Assert.Equal(new Dictionary<long, double> { [1] = 0, [2] = 1, [3] = 2 }, skips);
    }

    // A GPT-2 policy whose position embeddings and the token "~" both carry 2e38 in one
    // dimension: their sum overflows to infinity only where "~" appears, so exactly the steps
    // whose batch holds one of the two examples with "~" have a NaN loss; every other step trains
    // normally. Returns the SFT arguments for a run into a folder, with more flags appended.
    private Func<string, string[], string[]> OccasionallyBadSft(int batchSize)
    {
        var data = WriteData();
        var tokenizer = BpeTokenizer.FromDirectory(Path.Combine(data, "tokenizer"));
        int tilde = Assert.Single(tokenizer.Encode("~"));
        var model = SpikedGpt2(tokenizer, tilde, Path.Combine(_dir, "model"));
        var train = Path.Combine(_dir, "train.jsonl");
        var lines = File.ReadLines(Path.Combine(data, "sft_train.jsonl")).Take(10).ToList();
        lines[3] = "{\"prompt\": \"Is 7 odd?\", \"completion\": \"Yes ~ it is.\"}";
        lines[8] = "{\"prompt\": \"Is 8 odd?\", \"completion\": \"No ~ it is not.\"}";
        File.WriteAllLines(train, lines);
        int steps = 10 / batchSize;
        return (run, more) =>
        [
            "sft", "--data", data, "--model", model, "--train_file", train, "--out", run, "--max_steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--batch_size", batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), "--learning_rate", "0.001", "--warmup_steps", "0", "--log_every", "1",
            "--save_every", "0", "--eval_prompts", "2", "--max_new_tokens", "1", .. more,
        ];
    }

    [Fact]
    public void SkippingDropsTheOccasionalBadStepAndTheRunFinishes()
    {
        var args = OccasionallyBadSft(batchSize: 1);
        string[] Args(string run, params string[] more) => args(run, more);

        var stop = Run(Args(Path.Combine(_dir, "stop")));
        Assert.True(stop.Code == ExitCodes.Diverged, $"exit {stop.Code}: {stop.Err}");
        Assert.Contains("the loss is NaN", stop.Err);

        var run = Path.Combine(_dir, "skip");
        var (code, _, err) = Run(Args(run, "--on_nonfinite", "skip"));
        Assert.True(code == 0, err);
        // One epoch of ten examples: the two with "~" were skipped, the other eight trained.
        var metrics = Metrics(run).Where(m => m.ContainsKey("train/loss")).ToList();
        Assert.Equal(10, metrics.Count);
        Assert.Equal(2, metrics[^1]["train/nonfinite_skips"]!.GetValue<double>());
        Assert.Equal(2, metrics.Count(m => m["train/loss"]!.GetValueKind() == System.Text.Json.JsonValueKind.String));
        // The model written at the end is finite and loads.
        Assert.NotNull(PretrainedIO.LoadCausalLM(Path.Combine(run, "model")));
    }

    [Fact]
    public void OnTwoRanksEveryRankSkipsTheSameUpdatesAndStopsTogether()
    {
        var limit = TimeSpan.FromMinutes(3);
        var args = OccasionallyBadSft(batchSize: 2);
        var one = Path.Combine(_dir, "one");
        var (code, _, err) = Run(args(one, ["--on_nonfinite", "skip"]));
        Assert.True(code == 0, err);

        // Each rank holds one example of each batch: a bad example is on one rank only, and both drop that update.
        var two = Path.Combine(_dir, "two");
        var ranks = RlhfProcess.RunRanks(2, limit, args(two, ["--on_nonfinite", "skip"]));
        Assert.True(ranks.Code == 0, ranks.Err);
        double Skips(string run) => Metrics(run).Last(m => m.ContainsKey("train/nonfinite_skips"))["train/nonfinite_skips"]!.GetValue<double>();
        Assert.InRange(Skips(one), 1, 2);
        Assert.Equal(Skips(one), Skips(two));
        // The same updates were applied: the weights agree up to the order of the gradient sums.
        var a = PretrainedIO.LoadCausalLM(Path.Combine(one, "model")).NamedParameters().ToList();
        var b = PretrainedIO.LoadCausalLM(Path.Combine(two, "model")).NamedParameters().ToList();
        Assert.Equal(a.Select(p => p.Name), b.Select(p => p.Name));
        for (int i = 0; i < a.Count; i++)
        {
            var (x, y) = (a[i].Param.Value.ToArray(), b[i].Param.Value.ToArray());
            for (int j = 0; j < x.Length; j++)
                Assert.True(Math.Abs(x[j] - y[j]) <= 1e-4 * Math.Max(1, Math.Abs(x[j])), $"{a[i].Name}[{j}]: {x[j]} on one process, {y[j]} on two ranks");
        }

        // With stop, every rank ends with the diverged exit code instead of waiting for the other.
        var stop = RlhfProcess.RunRanks(2, limit, args(Path.Combine(_dir, "stop"), []));
        Assert.True(stop.Code == ExitCodes.Diverged, $"exit {stop.Code}: {stop.Err}");
        Assert.Contains("diverged at step ", stop.Err);
    }

    private static string SpikedGpt2(BpeTokenizer tokenizer, int token, string dir)
    {
        var cfg = new ModelConfig
        {
            ModelType = "gpt2",
            VocabSize = tokenizer.VocabSize,
            HiddenSize = 32,
            NumLayers = 1,
            NumHeads = 2,
            NumKeyValueHeads = 2,
            IntermediateSize = 64,
            MaxPositions = 64,
            NormEps = 1e-5f,
            TieWordEmbeddings = false,
            AttentionBias = true,
            MlpBias = true,
            HiddenAct = "gelu_new",
        };
        var model = new CausalLM(cfg, new Generator(7));
        var parameters = model.NamedParameters().ToDictionary(p => p.Name, p => p.Param);
        Spike(parameters["transformer.wte.weight"], rows: [token]);
        Spike(parameters["transformer.wpe.weight"], rows: [.. Enumerable.Range(0, cfg.MaxPositions)]);
        PretrainedIO.Save(model, dir);
        tokenizer.Save(dir);
        return dir;
    }

    // Sets element 0 of each of the rows to 2e38 (finite; two of them add up to infinity).
    private static void Spike(Models.Modules.Parameter p, int[] rows)
    {
        var values = p.Value.ToArray();
        int width = p.Value.Shape[1];
        foreach (var r in rows)
            values[r * width] = 2e38f;
        p.Assign(Tensor.FromArray(values, p.Value.Shape));
    }
}
