using System.Text.Json;
using RlhfSharp.Text;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Tests;

public class BuiltinTaskGeneratorTests(BuiltinTaskFixture fx) : IClassFixture<BuiltinTaskFixture>
{
    private static readonly string[] DataFiles =
    [
        BuiltinTaskGenerator.SftTrainFileName, BuiltinTaskGenerator.SftEvalFileName,
        BuiltinTaskGenerator.PrefsTrainFileName, BuiltinTaskGenerator.PrefsEvalFileName,
        BuiltinTaskGenerator.PromptsTrainFileName, BuiltinTaskGenerator.PromptsEvalFileName,
    ];

    private List<Dictionary<string, string>> Read(string file)
        => [.. File.ReadAllLines(Path.Combine(fx.Dir, file)).Select(ParseLine)];

    private static Dictionary<string, string> ParseLine(string line)
    {
        using var doc = JsonDocument.Parse(line);
        Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
        return doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetRawText() : p.Value.GetString()!);
    }

    [Fact]
    public void SameSeedGivesByteIdenticalFiles()
    {
        string other = TempFolders.Create("builtin-again");
        try
        {
            BuiltinTaskGenerator.Write(other, new BuiltinTaskOptions());
            var names = Directory.GetFiles(fx.Dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(fx.Dir, f)).Order().ToList();
            Assert.Equal(names, Directory.GetFiles(other, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(other, f)).Order());
            Assert.Equal(13, names.Count); // 8 jsonl, stats, README, constitution, 2 tokenizer files, and nothing else
            foreach (var n in names) Assert.Equal(File.ReadAllBytes(Path.Combine(fx.Dir, n)), File.ReadAllBytes(Path.Combine(other, n)));
        }
        finally
        {
            TempFolders.Delete(other);
        }
    }

    [Fact]
    public void AnotherSeedGivesOtherData()
    {
        var a = BuiltinTaskGenerator.Generate(new BuiltinTaskOptions { TrainPrompts = 50, EvalPrompts = 10, PreferencePairs = 20, Seed = 1 });
        var b = BuiltinTaskGenerator.Generate(new BuiltinTaskOptions { TrainPrompts = 50, EvalPrompts = 10, PreferencePairs = 20, Seed = 2 });
        Assert.NotEqual(a.TrainPrompts, b.TrainPrompts);
    }

    [Fact]
    public void EveryLineHasExactlyTheExpectedFields()
    {
        string[][] fields = [["prompt", "completion"], ["prompt", "completion"], ["prompt", "chosen", "rejected"], ["prompt", "chosen", "rejected", "gold_chosen", "gold_rejected"], ["prompt", "answer", "skill"], ["prompt", "answer", "skill"]];
        int[] counts = [6000, 200, 8000, 200, 6000, 200];
        for (int f = 0; f < DataFiles.Length; f++)
        {
            Assert.DoesNotContain('\r', File.ReadAllText(Path.Combine(fx.Dir, DataFiles[f])));
            var lines = Read(DataFiles[f]);
            Assert.Equal(counts[f], lines.Count);
            foreach (var line in lines)
            {
                Assert.Equal(fields[f], line.Keys);
                Assert.All(line.Values, v => Assert.False(string.IsNullOrWhiteSpace(v)));
                Assert.True(TaskPrompts.TryParse(line["prompt"], out _), line["prompt"]);
            }
        }
        Assert.Contains("What is", File.ReadAllText(Path.Combine(fx.Dir, BuiltinTaskGenerator.PromptsTrainFileName)));
        Assert.DoesNotContain("\\u", File.ReadAllText(Path.Combine(fx.Dir, BuiltinTaskGenerator.SftTrainFileName))); // + and ' written plainly
    }

    [Fact]
    public void HeldOutPairsHaveAClearGoldPreference()
    {
        foreach (var line in Read(BuiltinTaskGenerator.PrefsEvalFileName))
        {
            double chosen = double.Parse(line["gold_chosen"], System.Globalization.CultureInfo.InvariantCulture);
            double rejected = double.Parse(line["gold_rejected"], System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(chosen - rejected >= new BuiltinTaskOptions().EvalPairMinGap - 1e-9, $"{chosen} vs {rejected}");
            Assert.Equal(GoldScorer.Default.Score(line["prompt"], line["chosen"]), chosen, 9);
        }
    }

    [Fact]
    public void SplitsShareNoPromptTextAndByDefaultSomeProblems()
    {
        var train = Read(BuiltinTaskGenerator.PromptsTrainFileName).Select(l => l["prompt"]).ToList();
        var eval = Read(BuiltinTaskGenerator.PromptsEvalFileName).Select(l => l["prompt"]).ToList();
        Assert.Equal(train.Count, train.Distinct().Count());
        Assert.Equal(eval.Count, eval.Distinct().Count());
        Assert.Equal(eval.Count, eval.Select(p => TaskPrompts.Parse(p).Key).Distinct().Count()); // one prompt per held-out problem
        var trainKeys = train.Select(p => TaskPrompts.Parse(p).Key).ToHashSet();
        // By default a held-out prompt may rephrase a train problem (the facts are "pretraining" knowledge)…
        Assert.Contains(eval, p => trainKeys.Contains(TaskPrompts.Parse(p).Key));
        Assert.Empty(train.Intersect(eval));
        Assert.Equal(train.Order(), Read(BuiltinTaskGenerator.SftTrainFileName).Select(l => l["prompt"]).Order());
        Assert.Equal(eval.Order(), Read(BuiltinTaskGenerator.SftEvalFileName).Select(l => l["prompt"]).Order());
        Assert.All(Read(BuiltinTaskGenerator.PrefsEvalFileName), l => Assert.Contains(l["prompt"], eval));
        Assert.All(Read(BuiltinTaskGenerator.PrefsTrainFileName), l => Assert.Contains(l["prompt"], train));
        // Every skill is held out in near-equal numbers. In train, a skill whose distinct prompts run
        // out (parity has 400 texts) leaves its turns to the others, which stay near-equal.
        foreach (var g in eval.GroupBy(p => TaskPrompts.Parse(p).Skill))
            Assert.InRange(g.Count(), eval.Count / 6 - 1, eval.Count / 6 + 1);
        var perSkill = train.GroupBy(p => TaskPrompts.Parse(p).Skill).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(6, perSkill.Count);
        Assert.True(perSkill[Skill.Parity] < train.Count / 6, "parity has fewer distinct prompts than an equal share");
        // Comparison and sorting never run out, so they take the remaining turns in equal shares.
        Assert.InRange(perSkill[Skill.Comparison] - perSkill[Skill.Sorting], -1, 1);
    }

    [Fact]
    public void DisjointProblemsKeepEveryHeldOutProblemOutOfTrain()
    {
        var data = BuiltinTaskGenerator.Generate(new BuiltinTaskOptions { TrainPrompts = 600, EvalPrompts = 60, PreferencePairs = 10, DisjointProblems = true });
        var trainKeys = data.TrainPrompts.Select(p => TaskPrompts.Parse(p).Key).ToHashSet();
        Assert.DoesNotContain(data.EvalPrompts, p => trainKeys.Contains(TaskPrompts.Parse(p).Key));
        Assert.Equal(600, data.TrainPrompts.Count);
    }

    [Fact]
    public void StyleFractionsAreTheStatedOnes()
    {
        var o = fx.Data.Options;
        foreach (var (demos, n) in new[] { (fx.Data.SftTrain, 6000), (fx.Data.SftEval, 200) })
            foreach (var s in Enum.GetValues<ResponseStyle>())
                Assert.InRange(demos.Count(d => d.Style == s) / (double)n, o.StyleFractions[(int)s] - 0.005, o.StyleFractions[(int)s] + 0.005);
        // the realised styles are what the gold scorer sees: the wrong ones are exactly the incorrect ones
        Assert.Equal(fx.Data.SftTrain.Count(d => d.Style == ResponseStyle.Wrong), fx.Data.SftTrain.Count(d => !GoldScorer.Default.Correct(d.Prompt, d.Completion)));
        Assert.True(fx.Data.AverageGold(ResponseStyle.Ideal) > fx.Data.AverageGold(ResponseStyle.Verbose));
        Assert.True(fx.Data.AverageGold(ResponseStyle.Verbose) > fx.Data.AverageGold(ResponseStyle.Rude));
        Assert.True(fx.Data.AverageGold(ResponseStyle.Rude) > fx.Data.AverageGold(ResponseStyle.Wrong));
    }

    [Fact]
    public void StratifiedStylesRoundByLargestRemainder()
    {
        var styles = BuiltinTaskGenerator.StratifiedStyles(7, [0.5, 0.2, 0.15, 0.15], new Tensors.Generator(1));
        // 3.5, 1.4, 1.05, 1.05 → floors 3, 1, 1, 1 (6); the largest remainder (ideal, .5) gets the 7th
        Assert.Equal([4, 1, 1, 1], Enum.GetValues<ResponseStyle>().Select(s => styles.Count(x => x == s)));
    }

    [Fact]
    public void NoisyLabelsAgreeWithGoldAboutThreeQuartersOfTheTime()
    {
        var prefs = Read(BuiltinTaskGenerator.PrefsTrainFileName);
        var gold = GoldScorer.Default;
        double agree = prefs.Count(l => gold.Score(l["prompt"], l["chosen"]) > gold.Score(l["prompt"], l["rejected"])) / (double)prefs.Count;
        Assert.Equal(fx.Data.MeasuredAgreement, agree, 12);
        Assert.InRange(agree, 0.70, 0.80);
        Assert.InRange(fx.Data.ExpectedAgreement, 0.70, 0.80);
        Assert.All(prefs, l => Assert.NotEqual(l["chosen"], l["rejected"]));
        Assert.All(prefs, l => Assert.NotEqual(gold.Score(l["prompt"], l["chosen"]), gold.Score(l["prompt"], l["rejected"]), 9));
    }

    [Fact]
    public void HeldOutPairsCarryTheGoldPreference()
    {
        var gold = new GoldRewardSource();
        var prefs = Read(BuiltinTaskGenerator.PrefsEvalFileName);
        var prompts = prefs.Select(l => l["prompt"]).ToList();
        var chosen = gold.Score(prompts, [.. prefs.Select(l => l["chosen"])]);
        var rejected = gold.Score(prompts, [.. prefs.Select(l => l["rejected"])]);
        for (int i = 0; i < prefs.Count; i++) Assert.True(chosen[i] > rejected[i], prefs[i]["prompt"]);
    }

    [Fact]
    public void StatsRecordTheMixtureTauAndAgreement()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Dir, BuiltinTaskGenerator.StatsFileName)));
        var root = doc.RootElement;
        Assert.Equal(GoldScorer.TaskMarker, root.GetProperty("task").GetString());
        Assert.Equal("chatml", root.GetProperty("chat_template").GetString());
        Assert.Equal(0.4, root.GetProperty("style_fractions").GetProperty("ideal").GetDouble());
        Assert.Equal(0.15, root.GetProperty("style_fractions").GetProperty("wrong").GetDouble());
        Assert.Equal(2400, root.GetProperty("sft_train_style_counts").GetProperty("ideal").GetInt32());
        var prefs = root.GetProperty("preferences");
        Assert.Equal(fx.Data.Options.Tau, prefs.GetProperty("tau").GetDouble());
        Assert.Equal(Math.Round(fx.Data.MeasuredAgreement, 4), prefs.GetProperty("agreement_measured").GetDouble());
        Assert.Equal(1.0, root.GetProperty("average_gold_by_style").GetProperty("ideal").GetDouble());
        // wrong answers also lose the style points of their verbose or rude forms
        double wrong = root.GetProperty("average_gold_by_style").GetProperty("wrong").GetDouble();
        Assert.Equal(Math.Round(fx.Data.AverageGold(ResponseStyle.Wrong), 4), wrong);
        Assert.InRange(wrong, -1.6, -1.1);
        Assert.Equal(8000, root.GetProperty("counts").GetProperty("prefs_train").GetInt32());
        Assert.Contains("tokenizer.json", File.ReadAllText(Path.Combine(fx.Dir, BuiltinTaskGenerator.ReadmeFileName)));
    }

    [Fact]
    public void TryCreateRecognisesTheFolder()
    {
        Assert.Same(GoldScorer.Default, GoldScorer.TryCreate(fx.Dir));
        string other = TempFolders.Create("not-builtin");
        try
        {
            Assert.Null(GoldScorer.TryCreate(other));
            File.WriteAllText(Path.Combine(other, "stats.json"), "{\"task\": \"something-else\"}");
            Assert.Null(GoldScorer.TryCreate(other));
            File.WriteAllText(Path.Combine(other, "stats.json"), "{not json");
            var e = Assert.Throws<InvalidDataException>(() => GoldScorer.TryCreate(other));
            Assert.Contains("stats.json", e.Message);
        }
        finally
        {
            TempFolders.Delete(other);
        }
    }

    [Fact]
    public void TokenizerHasTheSpecialTokensAndRoundTripsTheCorpus()
    {
        var tok = BpeTokenizer.FromDirectory(Path.Combine(fx.Dir, BuiltinTaskGenerator.TokenizerFolderName));
        Assert.Equal(fx.Data.Options.TokenizerVocabSize, tok.VocabSize);
        for (int i = 0; i < BuiltinTaskTokenizer.SpecialTokens.Count; i++) Assert.Equal(i, tok.TokenToId(BuiltinTaskTokenizer.SpecialTokens[i]));
        Assert.Equal(BuiltinTaskTokenizer.EosToken, tok.EosToken);
        Assert.Equal(BuiltinTaskTokenizer.BosToken, tok.BosToken);
        Assert.Equal(BuiltinTaskTokenizer.PadToken, tok.PadToken);
        int longestPrompt = 0, longestIdeal = 0, longestConversation = 0;
        foreach (var file in DataFiles)
            foreach (var line in Read(file))
                foreach (var text in line.Values)
                    Assert.Equal(text, tok.Decode(tok.Encode(text)));
        foreach (var d in fx.Data.SftTrain.Concat(fx.Data.SftEval))
        {
            string conversation = BuiltinTaskTokenizer.Render(d.Prompt, d.Completion);
            var ids = tok.Encode(conversation);
            Assert.Equal(conversation, tok.Decode(ids));
            var enc = BuiltinTaskTokenizer.Template.Encode(tok, [Text.Chat.ChatMessage.User(d.Prompt), Text.Chat.ChatMessage.Assistant(d.Completion)]);
            Assert.Equal(ids, enc.Ids);
            Assert.Equal(tok.EosTokenId, enc.Ids[Array.LastIndexOf(enc.AssistantMask, true)]); // the assistant turn ends with EOS
            longestPrompt = Math.Max(longestPrompt, tok.Encode(d.Prompt).Length);
            if (d.Style == ResponseStyle.Ideal) longestIdeal = Math.Max(longestIdeal, tok.Encode(d.Completion).Length);
            longestConversation = Math.Max(longestConversation, ids.Length);
        }
        Assert.InRange(longestPrompt, 1, 20);
        Assert.InRange(longestIdeal, 1, 16);
        Assert.InRange(longestConversation, 1, 64);
    }

    [Theory]
    [InlineData(0, 200, 0.5, 0.5)]
    [InlineData(100, 0, 0.5, 0.5)]
    [InlineData(100, 10, 0.6, 0.5)]
    [InlineData(100, 10, 0.5, 0.0)]
    public void BadOptionsAreRejected(int train, int eval, double ideal, double tau)
    {
        var o = new BuiltinTaskOptions { TrainPrompts = train, EvalPrompts = eval, PreferencePairs = Math.Min(train, 50), IdealFraction = ideal, Tau = tau };
        Assert.Throws<ArgumentException>(() => BuiltinTaskGenerator.Generate(o));
    }

    [Fact]
    public void AskingForMorePromptsThanExistFailsClearly()
    {
        var e = Assert.Throws<ArgumentException>(() => BuiltinTaskGenerator.Generate(new BuiltinTaskOptions { TrainPrompts = 10, EvalPrompts = 20_000, PreferencePairs = 10 }));
        Assert.Contains("distinct held-out prompts", e.Message);
    }
}
