using System.Text.Json;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Rewards.Verifiers;

namespace RlhfSharp.Training.Tests;

/// <summary>The prompt rows of <c>rlhf data builtin</c> carry the reference answer the gold scorer accepts.</summary>
public class BuiltinTaskPromptAnswerTests(BuiltinTaskFixture fx) : IClassFixture<BuiltinTaskFixture>
{
    private IEnumerable<(string Prompt, string Answer, string Skill)> Rows(string file)
    {
        foreach (var line in File.ReadLines(Path.Combine(fx.Dir, file)))
        {
            using var doc = JsonDocument.Parse(line);
            var r = doc.RootElement;
            yield return (r.GetProperty("prompt").GetString()!, r.GetProperty("answer").GetString()!, r.GetProperty("skill").GetString()!);
        }
    }

    [Theory]
    [InlineData(BuiltinTaskGenerator.PromptsTrainFileName)]
    [InlineData(BuiltinTaskGenerator.PromptsEvalFileName)]
    public void EveryRowsAnswerIsWhatTheGoldScorerCountsCorrect(string file)
    {
        var rows = Rows(file).ToList();
        Assert.Equal(file == BuiltinTaskGenerator.PromptsTrainFileName ? fx.Data.TrainPrompts : fx.Data.EvalPrompts, rows.Select(r => r.Prompt));
        foreach (var (prompt, answer, skill) in rows)
        {
            var gold = GoldScorer.Default.Explain(TaskPrompts.Parse(prompt), answer);
            Assert.True(gold.IsCorrect, $"{prompt} => {answer}");
            Assert.Equal(gold.Skill.ToString().ToLowerInvariant(), skill);
        }
        Assert.Equal(Enum.GetValues<Skill>().Length, rows.Select(r => r.Skill).Distinct().Count());
    }

    [Fact]
    public void ArithmeticFilesHoldTheArithmeticRowsInOrder()
    {
        foreach (var (all, arithmetic) in new[] { (BuiltinTaskGenerator.PromptsTrainFileName, BuiltinTaskGenerator.ArithmeticTrainFileName), (BuiltinTaskGenerator.PromptsEvalFileName, BuiltinTaskGenerator.ArithmeticEvalFileName) })
        {
            var expected = File.ReadLines(Path.Combine(fx.Dir, all)).Where(l => l.Contains("\"skill\":\"arithmetic\"", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(expected);
            Assert.Equal(expected, File.ReadLines(Path.Combine(fx.Dir, arithmetic)));
        }
        using var stats = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Dir, BuiltinTaskGenerator.StatsFileName)));
        Assert.Equal(Rows(BuiltinTaskGenerator.ArithmeticEvalFileName).Count(), stats.RootElement.GetProperty("counts").GetProperty("prompts_arithmetic_eval").GetInt32());
        Assert.Contains(BuiltinTaskGenerator.ArithmeticTrainFileName, File.ReadAllText(Path.Combine(fx.Dir, BuiltinTaskGenerator.ReadmeFileName)), StringComparison.Ordinal);
    }

    [Fact]
    public void TheAccuracyVerifierCountsEveryReferenceAnswerCorrect()
    {
        // The rows as the RL trainers load them; the defaults (last_number, text normalised) read every skill's answer.
        var rows = PromptDataset.Load(Path.Combine(fx.Dir, BuiltinTaskGenerator.PromptsEvalFileName), new DataLoadOptions());
        var verifier = new AccuracyVerifier(AnswerExtractor.Create("text"), new AnswerComparer(0, normalizeText: true));
        Assert.All(rows, r => Assert.True(verifier.IsCorrect(r, r.Extra["answer"].GetString()!), r.Extra["answer"].GetString()));
        var arithmetic = PromptDataset.Load(Path.Combine(fx.Dir, BuiltinTaskGenerator.ArithmeticEvalFileName), new DataLoadOptions());
        var lastNumber = new AccuracyVerifier(AnswerExtractor.Create("last_number"), new AnswerComparer(1e-6, normalizeText: true));
        Assert.All(arithmetic, r => Assert.True(lastNumber.IsCorrect(r, $"The answer is {r.Extra["answer"].GetString()}.")));
        Assert.All(arithmetic, r => Assert.False(lastNumber.IsCorrect(r, $"The answer is {int.Parse(r.Extra["answer"].GetString()!, System.Globalization.CultureInfo.InvariantCulture) + 1}.")));
    }
}
