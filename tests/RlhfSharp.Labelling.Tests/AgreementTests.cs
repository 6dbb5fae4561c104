using System.Text.Json.Nodes;
using RlhfSharp.Training.Judges.Human;
using static RlhfSharp.Training.Judges.Human.Judgement;

namespace RlhfSharp.Labelling.Tests;

/// <summary>Agreement and Cohen's kappa against numbers worked out by hand.</summary>
public sealed class AgreementTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("label-stats-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Ten pairs, two labellers (F/S = first/second response better, T = tie, X = both bad):
    //   pair   1 2 3 4 5 6 7 8 9 10
    //   ana    F F F S S S T F X S
    //   bo     F F S S S F T T X S
    // Agreed on 1, 2, 4, 5, 7, 9, 10: p_o = 7/10 = 0.7.
    // Marginals: ana F 4, S 4, T 1, X 1; bo F 3, S 4, T 2, X 1.
    // p_e = (4·3 + 4·4 + 1·2 + 1·1) / 10² = 31/100 = 0.31.
    // κ = (0.7 − 0.31) / (1 − 0.31) = 0.39 / 0.69 = 0.565217...
    internal static readonly Judgement[] Ana = [First, First, First, Second, Second, Second, Tie, First, BothBad, Second];
    internal static readonly Judgement[] Bo = [First, First, Second, Second, Second, First, Tie, Tie, BothBad, Second];

    [Fact]
    public void KappaOfTheTenPairExampleMatchesTheHandWorkedValue()
    {
        var r = Agreement.Compute([.. Ana.Zip(Bo)]);
        Assert.Equal((10, 7), (r.Count, r.Agreed));
        Assert.Equal(0.7, r.Observed!.Value, 12);
        Assert.Equal(0.31, r.Chance!.Value, 12);
        Assert.Equal(0.39 / 0.69, r.Kappa!.Value, 12);
    }

    [Fact]
    public void KappaOfCohensTwoByTwoTextbookTable()
    {
        // 50 items: both "first" 20, X first / Y second 5, X second / Y first 10, both "second" 15.
        // p_o = 35/50 = 0.7; X says first 25/50, Y 30/50; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5 = 0.4.
        var pairs = Enumerable.Repeat((First, First), 20).Concat(Enumerable.Repeat((First, Second), 5))
            .Concat(Enumerable.Repeat((Second, First), 10)).Concat(Enumerable.Repeat((Second, Second), 15)).ToList();
        var r = Agreement.Compute(pairs);
        Assert.Equal(0.7, r.Observed!.Value, 12);
        Assert.Equal(0.5, r.Chance!.Value, 12);
        Assert.Equal(0.4, r.Kappa!.Value, 12);
    }

    [Fact]
    public void KappaIsUndefinedWithoutItemsOrWhenChanceAgreementIsCertain()
    {
        Assert.Equal(new AgreementResult(0, 0, null, null, null), Agreement.Compute([]));
        var same = Agreement.Compute([(First, First), (First, First)]);
        Assert.Equal(1.0, same.Observed);
        Assert.Null(same.Kappa);
        // Complete disagreement with opposite constant labels: p_o = 0, p_e = 0, κ = 0.
        Assert.Equal(0.0, Agreement.Compute([(First, Second), (First, Second)]).Kappa);
    }

    /// <summary>Writes the ten-pair example as a labelling session, plus a third labeller and a judge file.</summary>
    internal static (string Prefs, string Judge) WriteExample(string dir)
    {
        var items = TestPairs.Arithmetic(10);
        var prefs = Path.Combine(dir, "prefs.jsonl");
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using (var store = LabelStore.Open(prefs))
        {
            for (int i = 0; i < 10; i++)
            {
                store.TryAppend(items[i], Submit("ana", items[i], Ana[i], i % 2 == 0 ? Side.A : Side.B, 2 + i), now, out _);
                store.TryAppend(items[i], Submit("bo", items[i], Bo[i], i % 3 == 0 ? Side.B : Side.A, 4), now, out _);
            }
            // cy labels two pairs: the first like ana, the second she skips (skips are no judgement).
            store.TryAppend(items[0], Submit("cy", items[0], First, Side.B, 1), now, out _);
            store.TryAppend(items[1], new Submission("cy", items[1].Id, Side.A, HumanChoice.Skip, Seconds: 1), now, out _);
        }
        // The judge prefers the correct answer (the "first" text in ordinal order for every pair here)
        // on pairs 1 to 8; it labelled pair 9 a tie and never saw pair 10. Its lines name chosen first,
        // whatever order the session shows them in.
        var judge = Path.Combine(dir, "judge.jsonl");
        var lines = items.Take(8).Select(i => new JsonObject { ["prompt"] = i.Prompt[0].Content, ["chosen"] = i.A, ["rejected"] = i.B, ["judge"] = "constitution" }.ToJsonString())
            .Append(new JsonObject { ["prompt"] = items[8].Prompt[0].Content, ["response_a"] = items[8].B, ["response_b"] = items[8].A, ["label"] = "tie" }.ToJsonString());
        File.WriteAllLines(judge, lines);
        return (prefs, judge);
    }

    // A submission whose label, read back in order-free terms, is j (A is the ordinal-first text in TestPairs).
    private static Submission Submit(string who, PairItem item, Judgement j, Side left, double seconds)
    {
        Assert.True(PairItem.IsFirstInOrder(item.A, item.B));
        var choice = j switch
        {
            First => left == Side.A ? HumanChoice.Left : HumanChoice.Right,
            Second => left == Side.B ? HumanChoice.Left : HumanChoice.Right,
            Tie => HumanChoice.Tie,
            _ => HumanChoice.BothBad,
        };
        return new Submission(who, item.Id, left, choice, Seconds: seconds);
    }

    [Fact]
    public void StatsOfALabellingFileMatchTheHandWorkedNumbers()
    {
        var (prefs, judgeFile) = WriteExample(_dir);
        var (records, notes) = LabelFiles.Read(prefs);
        Assert.Empty(notes);
        var report = LabelStats.Compute(records, JudgeLabels.Load(judgeFile));

        Assert.Equal((22, 10), (report.Labels, report.Pairs));
        var ana = report.Labellers[0];
        Assert.Equal(new LabellerCounts("ana", 10, 8, 1, 1, 0, 6.5), ana); // seconds 2..11, mean 6.5
        Assert.Equal(new LabellerCounts("cy", 2, 1, 0, 0, 1, 1), report.Labellers[2]);

        var anaBo = report.Pairwise.Single(p => (p.X, p.Y) == ("ana", "bo")).Result;
        Assert.Equal((10, 7), (anaBo.Count, anaBo.Agreed));
        Assert.Equal(0.39 / 0.69, anaBo.Kappa!.Value, 12);
        // ana and cy share pair 1 (cy skipped pair 2): one pair, agreed, κ undefined (both said "first").
        var anaCy = report.Pairwise.Single(p => (p.X, p.Y) == ("ana", "cy")).Result;
        Assert.Equal((1, 1, (double?)null), (anaCy.Count, anaCy.Agreed, anaCy.Kappa));
        var boCy = report.Pairwise.Single(p => (p.X, p.Y) == ("bo", "cy")).Result;
        Assert.Equal((1, 1), (boCy.Count, boCy.Agreed));
        Assert.Equal((12, 9), (report.Overall.Count, report.Overall.Agreed));

        // Against the judge (pairs 1-8 "first", pair 9 tie):
        //   ana on 1-9: F F F S S S T F X vs F F F F F F F F T: agreed 1, 2, 3, 8 = 4/9.
        //     ana F 4, S 3, T 1, X 1; judge F 8, T 1: p_e = (4·8 + 1·0 + 1·1·0 ... ) = (4·8)/81 + (1·1)/81·0 ...
        //     only F and T are shared: p_e = (4·8 + 1·1)/81 = 33/81; κ = (4/9 − 33/81)/(1 − 33/81) = (36 − 33)/(81 − 33) = 3/48.
        var anaJudge = report.WithJudge.Single(p => p.X == "ana").Result;
        Assert.Equal((9, 4), (anaJudge.Count, anaJudge.Agreed));
        Assert.Equal(33.0 / 81, anaJudge.Chance!.Value, 12);
        Assert.Equal(3.0 / 48, anaJudge.Kappa!.Value, 12);
        //   bo on 1-9: F F S S S F T T X: agreed 1, 2, 6 = 3/9.
        var boJudge = report.WithJudge.Single(p => p.X == "bo").Result;
        Assert.Equal((9, 3), (boJudge.Count, boJudge.Agreed));
        //   cy: pair 1 only (F, F).
        Assert.Equal((1, 1), (report.WithJudge.Single(p => p.X == "cy").Result.Count, report.WithJudge.Single(p => p.X == "cy").Result.Agreed));
        var all = report.WithJudge.Single(p => p.X == "all").Result;
        Assert.Equal((19, 8), (all.Count, all.Agreed));

        var text = report.ToText();
        Assert.Contains("70.0 %", text);
        Assert.Contains("0.565", text);
        Assert.Contains("44.4 %", text);
    }

    [Fact]
    public void AJudgeFileMatchesPairsWhateverOrderItNamesTheResponsesIn()
    {
        var item = TestPairs.Arithmetic(1)[0];
        var judge = Path.Combine(_dir, "j.jsonl");
        File.WriteAllText(judge, new JsonObject { ["prompt"] = "What is 1 + 1?", ["chosen"] = item.B, ["rejected"] = item.A }.ToJsonString() + "\n");
        Assert.Equal(Second, JudgeLabels.Load(judge).Labels[item.Id]);
        // The HH form (no prompt field) is matched too.
        File.WriteAllText(judge, new JsonObject { ["chosen"] = $"\n\nHuman: What is 1 + 1?\n\nAssistant: {item.A}", ["rejected"] = $"\n\nHuman: What is 1 + 1?\n\nAssistant: {item.B}" }.ToJsonString() + "\n");
        Assert.Equal(First, JudgeLabels.Load(judge).Labels[item.Id]);

        File.WriteAllText(judge, string.Join("\n", Enumerable.Repeat(new JsonObject { ["prompt"] = "What is 1 + 1?", ["chosen"] = item.B, ["rejected"] = item.A }.ToJsonString(), 2)));
        var e = Assert.Throws<RlhfSharp.Training.Data.DataFormatException>(() => JudgeLabels.Load(judge));
        Assert.Equal(2, e.Line);
        Assert.Contains("line 1", e.Message);
    }
}
