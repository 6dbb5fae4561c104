using System.Text.Json.Nodes;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Tests;

/// <summary>
/// A policy trained further with ref_model (iterated RLHF's later rounds) is judged against that
/// model: the held-out reference answers, eval/win_rate_vs_ref and eval/gold_score_ref are the
/// reference model's, not the starting policy's, so a round's win rate is against SFT.
/// </summary>
public sealed class RefModelEvaluationTests(RudePolicyFixture fixture) : IClassFixture<RudePolicyFixture>
{
    private GrpoConfig Config(string model, string? refModel, int steps) => new()
    {
        Data = fixture.DataDir,
        Model = model,
        RefModel = refModel,
        RewardFuncs = ["gold"],
        BatchSize = 4,
        NumGenerations = 4,
        MiniBatchSize = 16,
        MaxSteps = steps,
        ResponseLength = 12,
        LearningRate = 3e-2f,
        EvalEvery = steps,
        SaveEvery = 100,
        EvalSamples = 2,
        Threads = 1,
    };

    private string Run(string name) => Path.Combine(fixture.Dir, name + "-" + Guid.NewGuid().ToString("N")[..8]);

    private static JsonObject FirstEvaluation(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!.AsObject()).First(l => l.ContainsKey("eval/gold_score"));

    [Fact]
    public void ContinuedPolicyIsComparedWithTheReferenceModelsAnswers()
    {
        var first = Run("first");
        var one = GrpoTrainer.Run(Config(fixture.SftDir, null, 4), first, resume: false);
        var second = Run("second");
        var two = GrpoTrainer.Run(Config(Path.Combine(first, "model"), fixture.SftDir, 2), second, resume: false);

        // Both runs' reference answers are the SFT model's, drawn from the same evaluation stream.
        var refFirst = File.ReadAllLines(Path.Combine(first, "eval_reference.jsonl"));
        Assert.NotEmpty(refFirst);
        Assert.Equal(refFirst, File.ReadAllLines(Path.Combine(second, "eval_reference.jsonl")));
        Assert.Equal(one["eval/gold_score_ref"]!.GetValue<double>(), two["eval/gold_score_ref"]!.GetValue<double>());

        // Step 0 of the second run scores its starting policy, the first run's final one: the same
        // answers as the first run's last evaluation, with a win rate and a KL against SFT.
        var start = FirstEvaluation(second);
        Assert.Equal(0, start["step"]!.GetValue<long>());
        Assert.Equal(one["eval/gold_score"]!.GetValue<double>(), start["eval/gold_score"]!.GetValue<double>(), 12);
        Assert.Equal(one["eval/win_rate_vs_ref"]!.GetValue<double>(), start["eval/win_rate_vs_ref"]!.GetValue<double>(), 12);
        Assert.Equal(one["eval/kl_to_ref"]!.GetValue<double>(), start["eval/kl_to_ref"]!.GetValue<double>(), 6);
        Assert.True(start["eval/kl_to_ref"]!.GetValue<double>() > 0, start.ToJsonString());

        // Without ref_model, step 0 is the reference itself: no win rate, no KL.
        var own = FirstEvaluation(first);
        Assert.False(own.ContainsKey("eval/win_rate_vs_ref"), own.ToJsonString());
        Assert.Equal(0, own["eval/kl_to_ref"]!.GetValue<double>());
    }
}
