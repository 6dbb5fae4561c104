using System.Text.Json;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards;
using RlhfSharp.Training.Rewards.Verifiers;
using RlhfSharp.Training.Rl;

namespace RlhfSharp.Training.Tests;

/// <summary>The accuracy, format and length rewards as reward_funcs build them: scores, config errors, mixing.</summary>
public class VerifierRewardTests
{
    private static PromptExample Row(string prompt, string extraJson, int line = 1)
    {
        using var doc = JsonDocument.Parse(extraJson);
        var extra = doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        return new PromptExample([ChatMessage.User(prompt)], "prompts.jsonl", line) { Extra = extra };
    }

    private static GrpoConfig Config(params string[] funcs) => new() { Data = "data", Model = "sft", RewardFuncs = [.. funcs] };

    private static IRewardSource Build(GrpoConfig cfg, string name) => RewardFunctions.Build(name, new RewardFunctionContext(cfg, ChatTemplate.ChatMl, null));

    [Fact]
    public void AccuracyScoresAgainstLabelElseAnswer()
    {
        var cfg = Config("accuracy");
        cfg.AccuracyUnparseable = -1;
        var acc = Build(cfg, "accuracy");
        PromptExample[] rows = [Row("What is 7 + 5?", """{"answer": "12"}"""), Row("q", """{"label": 3, "answer": "9"}"""), Row("q", """{"answer": "4"}""")];
        // 12 is right; label 3 wins over answer 9 and the last number is 9; no number at all is unparseable.
        Assert.Equal([1.0, 0.0, -1.0], acc.ScoreExamples(rows, ["7 + 5 = 12.", "3 or 9", "four"]));
    }

    [Fact]
    public void AccuracyReadsANamedFieldAndTheBoxedAnswer()
    {
        var cfg = Config("accuracy");
        cfg.AccuracyField = "solution";
        cfg.AccuracyExtractor = "boxed";
        var acc = Build(cfg, "accuracy");
        var rows = new[] { Row("q", """{"solution": "\\frac{1}{2}", "answer": "0"}"""), Row("q", """{"solution": "0.5"}""") };
        Assert.Equal([1.0, 1.0], acc.ScoreExamples(rows, [@"thus \boxed{\frac{1}{2}}", @"\boxed{0.50}"]));
    }

    [Fact]
    public void ARowWithoutTheReferenceNamesFileLineAndField()
    {
        var acc = Build(Config("accuracy"), "accuracy");
        var e = Assert.Throws<DataFormatException>(() => acc.ScoreExamples([Row("q", """{"answer": "1"}"""), Row("q", """{"skill": "x"}""", line: 7)], ["1", "1"]));
        Assert.Equal("prompts.jsonl: line 7: field \"label\": the accuracy reward needs a reference answer in \"label\" or \"answer\"; this row has only \"skill\"", e.Message);
        Assert.IsAssignableFrom<RlhfSharp.IUserError>(e);

        var named = Config("accuracy");
        named.AccuracyField = "gt";
        var e2 = Assert.Throws<DataFormatException>(() => Build(named, "accuracy").ScoreExamples([Row("q", """{"answer": "1"}""", line: 2)], ["1"]));
        Assert.Contains("line 2: field \"gt\"", e2.Message, StringComparison.Ordinal);
        Assert.Contains("(accuracy_field)", e2.Message, StringComparison.Ordinal);

        var wrongType = Assert.Throws<DataFormatException>(() => acc.ScoreExamples([Row("q", """{"answer": [1]}""", line: 3)], ["1"]));
        Assert.Contains("line 3: field \"answer\": the reference answer must be a string or a number, got array", wrongType.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AccuracyRefusesPromptsWithoutRows()
        => Assert.Contains("without their rows", Assert.Throws<NotSupportedException>(() => Build(Config("accuracy"), "accuracy").Score(["What is 1 + 1?"], ["2"])).Message);

    [Theory]
    [InlineData("full", new[] { 1.0, 0.0, 1.0 })]
    [InlineData("search", new[] { 1.0, 1.0, 1.0 })]
    public void FormatMatchesWholeOrAnywhere(string mode, double[] expected)
    {
        var cfg = Config("format");
        cfg.FormatPattern = @"The answer is \d+\.";
        cfg.FormatMatch = mode;
        // the third is matched after trimming
        Assert.Equal(expected, Build(cfg, "format").Score(["a", "b", "c"], ["The answer is 12.", "Well. The answer is 12. Bye", " The answer is 3.\n"]));
    }

    [Theory]
    [InlineData("words", 3, 0.5, "one two three four five", -1.0)] // 0.5 × (5 − 3)
    [InlineData("words", 5, 0.5, "one two three four five", 0.0)]
    [InlineData("chars", 2, 0.25, " abcdef ", -1.0)] // 0.25 × (6 − 2), trimmed
    [InlineData("chars", 10, 1, "abc", 0.0)]
    public void LengthPenalisesPastTheTarget(string unit, int target, double penalty, string response, double expected)
    {
        var cfg = Config("length");
        cfg.LengthUnit = unit;
        cfg.LengthTarget = target;
        cfg.LengthPenaltyPerUnit = penalty;
        Assert.Equal([expected], Build(cfg, "length").Score(["p"], [response]));
    }

    [Theory]
    [InlineData("format_pattern", "(a", "format", "format_pattern: \"(a\" is not a valid regular expression")]
    [InlineData("format_pattern", "", "format", "format_pattern: reward_funcs lists format")]
    [InlineData("format_match", "exact", "format", "format_match: unknown mode 'exact'; valid: full, search")]
    [InlineData("accuracy_extractor", "first_number", "accuracy", "accuracy_extractor: unknown extractor 'first_number'")]
    [InlineData("accuracy_pattern", "answer \\d+", "accuracy", "accuracy_pattern: \"answer \\d+\" has no capture group")]
    [InlineData("accuracy_tolerance", "-1", "accuracy", "accuracy_tolerance must be a finite number >= 0")]
    [InlineData("length_unit", "tokens", "length", "length_unit: unknown unit 'tokens'")]
    [InlineData("length_target", "-2", "length", "length_target and length_penalty must be >= 0")]
    public void BadVerifierKeysAreConfigErrorsNamingTheKey(string key, string value, string func, string message)
    {
        var cfg = Config(func);
        cfg.FormatPattern = "ok";
        switch (key)
        {
            case "format_pattern": cfg.FormatPattern = value; break;
            case "format_match": cfg.FormatMatch = value; break;
            case "accuracy_extractor": cfg.AccuracyExtractor = value; break;
            case "accuracy_pattern": cfg.AccuracyExtractor = "regex"; cfg.AccuracyPattern = value; break;
            case "accuracy_tolerance": cfg.AccuracyTolerance = double.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
            case "length_unit": cfg.LengthUnit = value; break;
            case "length_target": cfg.LengthTarget = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
        }
        Assert.Contains(cfg.Validate(), p => p.StartsWith(message, StringComparison.Ordinal));
        var e = Assert.Throws<TrainingSetupException>(() => Build(cfg, func));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("\\A(?:", e.Message, StringComparison.Ordinal); // the pattern as written, not its anchored form
    }

    [Fact]
    public void KeysOfVerifiersNotListedAreNotChecked()
    {
        var cfg = Config("gold");
        cfg.FormatPattern = "(a";
        cfg.AccuracyExtractor = "nonsense";
        Assert.Empty(cfg.Validate());
    }

    [Fact]
    public void VerifiersMixWithGoldByTheirWeights()
    {
        var cfg = Config("gold", "accuracy", "format");
        cfg.FormatPattern = @"\d+\.";
        var gold = new GoldRewardSource();
        var context = new RewardFunctionContext(cfg, ChatTemplate.ChatMl, gold);
        var mix = new RewardMixture([.. cfg.RewardFuncs.Zip(new[] { 1.0, 2.0, 0.5 }, (f, w) => new RewardComponent(RewardFunctions.Build(f, context), w))], normalize: false);
        var rows = new[] { Row("What is 7 + 5?", """{"answer": "12"}"""), Row("What is 2 * 3?", """{"answer": "6"}""") };
        string[] responses = ["12.", "The answer is 7."];
        // accuracy and format: 1 for "12.", 0 for the wrong "The answer is 7." (a full match of \d+\. fails on it too)
        double g0 = gold.Score(["What is 7 + 5?"], ["12."])[0], g1 = gold.Score(["What is 2 * 3?"], ["The answer is 7."])[0];
        Assert.Equal(1.0, g0);
        Assert.Equal([g0 + (2 * 1) + (0.5 * 1), g1 + (2 * 0) + (0.5 * 0)], mix.ScoreExamples(rows, responses));
        Assert.Equal([1.0, 0.0], mix.LastComponents["accuracy"]);
        Assert.Equal([1.0, 0.0], mix.LastComponents["format"]);
        var metrics = new Dictionary<string, double>();
        RewardMixture.AddComponentMeans(mix, metrics);
        Assert.Equal(0.5, metrics["reward/accuracy"]);
        Assert.Equal(0.5, metrics["reward/format"]);
    }
}
