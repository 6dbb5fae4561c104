using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Judges;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Tests;

public sealed class JudgeTests
{
    private static Constitution Builtin() => Constitution.Parse(BuiltinTaskConstitution.Yaml, "builtin");

    [Fact]
    public void TheBuiltinConstitutionScoresByHandWorkedWeights()
    {
        var c = Builtin();
        // polite (2) + concise (1) + gives an answer (1)
        Assert.Equal(4, c.ScoreOne("The answer is 12."));
        Assert.Equal(4, c.ScoreOne("12."));
        // rude: loses polite (2) and the answer shape (1); 4 words is still concise
        Assert.Equal(1, c.ScoreOne("Duh, the answer is 12."));
        // verbose: polite only (9 words > 6, and not the bare answer shape)
        Assert.Equal(2, c.ScoreOne("The answer is 12. Let me know if you have any other questions."));
        // "IDIOTS" starts with a forbidden word whatever the case; 2 words are concise; no final full stop
        Assert.Equal(1, c.ScoreOne("IDIOTS. 12"));
    }

    [Fact]
    public void TheConstitutionJudgePrefersTheHigherScoreAndTiesOnEqualScores()
    {
        var judge = new ScoringJudge(Builtin());
        IReadOnlyList<ChatMessage> prompt = [ChatMessage.User("What is 7 + 5?")];
        var v = judge.Judge([new(prompt, "12.", "Duh, 12."), new(prompt, "Ugh, whatever, 12.", "13."), new(prompt, "12.", "13.")]);
        // It cannot tell 12 from 13: correctness is beyond its rules, so that pair is a tie.
        Assert.Equal([Verdict.A, Verdict.B, Verdict.Tie], v);
        var gold = new ScoringJudge(new GoldRewardSource()).Judge([new(prompt, "12.", "13.")]);
        Assert.Equal([Verdict.A], gold);
    }

    [Fact]
    public void ANoisyScoringJudgeFollowsTheBradleyTerryProbability()
    {
        // Gold of "12." is 1 and of "13." is -1 on "What is 7 + 5?": a gap of 2. With τ = 0.75 the labeller
        // prefers the right answer with probability σ(2 / 0.75) = 1 / (1 + e^(-8/3)) = 0.93503, and with
        // τ = 2 with σ(1) = 0.73106.
        Assert.Equal(0.93503, ScoringJudge.PreferA(1, -1, 0.75), 5);
        Assert.Equal(0.73106, ScoringJudge.PreferA(1, -1, 2), 5);
        Assert.Equal(0.5, ScoringJudge.PreferA(0.3, 0.3, 0.75), 12);
        IReadOnlyList<ChatMessage> prompt = [ChatMessage.User("What is 7 + 5?")];
        var items = Enumerable.Range(0, 20_000).Select(_ => new JudgeItem(prompt, "12.", "13.")).ToList();
        foreach (var (tau, p) in new[] { (0.75, 0.93503), (2.0, 0.73106) })
        {
            var verdicts = new ScoringJudge(new GoldRewardSource(), tau, seed: 7).Judge(items);
            double share = verdicts.Count(v => v == Verdict.A) / (double)verdicts.Count;
            // 20 000 draws: the standard error is at most 0.0035, so 0.012 is more than three of them.
            Assert.InRange(share, p - 0.012, p + 0.012);
            Assert.DoesNotContain(Verdict.Tie, verdicts);
        }
        // The same seed draws the same labels; equal scores stay ties whatever the noise.
        var again = new ScoringJudge(new GoldRewardSource(), 0.75, seed: 7).Judge(items);
        Assert.Equal(new ScoringJudge(new GoldRewardSource(), 0.75, seed: 7).Judge(items), again);
        Assert.Equal([Verdict.Tie], new ScoringJudge(new GoldRewardSource(), 0.75).Judge([new(prompt, "12.", "The answer is 12.")]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScoringJudge(new GoldRewardSource(), -1));
    }

    [Theory]
    [InlineData("gold", -0.5, "judge_noise_tau must be a finite number >= 0 (0 = noise-free), got -0.5")]
    [InlineData("gold", double.PositiveInfinity, "judge_noise_tau must be a finite number >= 0")]
    [InlineData("local_lm", 0.75, "judge_noise_tau applies to the scoring judges (gold, constitution), not to judge: local_lm")]
    public void LabelNoiseIsCheckedWhereItIsSet(string judge, double tau, string expected)
    {
        var cfg = new LabelConfig { Data = "d", Model = "m", Judge = judge, JudgeModel = "j", JudgeNoiseTau = tau };
        Assert.Contains(cfg.Validate(), m => m.Contains(expected, StringComparison.Ordinal));
        cfg.JudgeNoiseTau = 0;
        Assert.Empty(cfg.Validate());
    }

    [Theory]
    [InlineData("principles: 3", "expected a mapping with a 'principles' list")]
    [InlineData("principles:\n  - name: x\n    rule: be_nice\n", "rule 'be_nice' is unknown")]
    [InlineData("principles:\n  - name: x\n    rule: max_words\n", "'value' must be present")]
    [InlineData("principles:\n  - name: x\n    rule: max_words\n    value: -2\n", "whole number >= 0")]
    [InlineData("principles:\n  - name: x\n    rule: forbid_words\n    words: []\n", "non-empty list")]
    [InlineData("principles:\n  - name: x\n    rule: require_regex\n    pattern: '('\n", "not a valid regex")]
    [InlineData("principles:\n  - name: x\n    rule: max_words\n    value: 3\n    weight: heavy\n", "weight 'heavy' is not a number")]
    [InlineData("principles:\n  - name: x\n    rule: max_words\n    value: 3\n    colour: red\n", "unknown principle key 'colour'")]
    [InlineData("principles:\n  - rule: max_words\n    value: 3\n", "'name' must be present")]
    [InlineData("principles: [", "not valid YAML")]
    [InlineData("principles: []", "at least one principle")]
    public void MalformedConstitutionsNameTheProblem(string yaml, string expected)
    {
        var e = Assert.Throws<ConstitutionException>(() => Constitution.Parse(yaml, "c.yaml"));
        Assert.Contains(expected, e.Message);
        Assert.Contains("c.yaml", e.Message.Contains("at least one", StringComparison.Ordinal) ? "c.yaml" : e.Message);
    }

    [Fact]
    public void LabelWritesPairsThatTheTrainersReadAndReportsAgreementWithGold()
    {
        var dir = Directory.CreateTempSubdirectory("label-").FullName;
        try
        {
            var data = Path.Combine(dir, "data");
            BuiltinTaskGenerator.Write(data, new BuiltinTaskOptions { TrainPrompts = 60, EvalPrompts = 6, PreferencePairs = 10, TokenizerVocabSize = 300 });
            Assert.True(File.Exists(Path.Combine(data, BuiltinTaskGenerator.ConstitutionFileName)));
            // A policy that writes task-like answers of varied style: a few SFT steps on the noisy demonstrations.
            var sft = Trainers.SftTrainer.Run(new Trainers.SftConfig
            {
                Data = data,
                ModelInit = new Foundation.ModelInitSection { HiddenSize = 32, NumLayers = 2, NumHeads = 2, NumKvHeads = 1, IntermediateSize = 64, MaxPositions = 64 },
                MaxSteps = 40,
                LearningRate = 1e-2f,
                WarmupSteps = 2,
                BatchSize = 16,
                EvalPrompts = 1,
                Threads = 1,
            }, Path.Combine(dir, "sft"), resume: false);
            var model = sft["model"]!.GetValue<string>();

            var outDir = Path.Combine(dir, "labels");
            var summary = Labeller.Run(new LabelConfig { Data = data, Model = model, Judge = "gold", SamplesPerPrompt = 4, MaxNewTokens = 16, Threads = 1 }, outDir);
            int pairs = summary["pairs"]!.GetValue<int>();
            Assert.True(pairs >= 20, $"only {pairs} labelled pairs");
            Assert.Equal(120, pairs + summary["judge_ties"]!.GetValue<int>() + summary["identical_responses"]!.GetValue<int>() + summary["empty_responses"]!.GetValue<int>()); // 60 prompts × 2 pairs
            // The gold judge agrees with the gold scorer on every pair it labelled.
            Assert.Equal(1.0, summary["gold/agreement"]!.GetValue<double>());
            var set = PreferenceDataset.Load(Path.Combine(outDir, Labeller.OutputFileName), new DataLoadOptions());
            Assert.Equal(pairs, set.Count);
            Assert.All(set, p => Assert.True(GoldScorer.Default.Score(IRewardSource.LastUserText(p.Prompt), p.Chosen.Content) > GoldScorer.Default.Score(IRewardSource.LastUserText(p.Prompt), p.Rejected.Content)));
            Assert.Equal("gold", JsonNode.Parse(File.ReadLines(Path.Combine(outDir, Labeller.OutputFileName)).First())!["judge"]!.GetValue<string>());
            // The pairs it tied are kept apart, for a reward model to train on as ties; both sides score the same.
            var ties = PreferenceDataset.LoadTies(Path.Combine(outDir, Labeller.TiesFileName));
            Assert.Equal(summary["judge_ties"]!.GetValue<int>(), ties.Count);
            Assert.NotEmpty(ties);
            Assert.All(ties, t => Assert.Equal(GoldScorer.Default.Score(IRewardSource.LastUserText(t.Prompt), t.Chosen.Content), GoldScorer.Default.Score(IRewardSource.LastUserText(t.Prompt), t.Rejected.Content)));

            // The same responses labelled by a fallible labeller (Bradley–Terry, τ = 0.75, as the task's
            // files): the same pairs, some of them flipped, and the summary says how many agree with gold.
            var noisyDir = Path.Combine(dir, "noisy");
            var noisy = Labeller.Run(new LabelConfig { Data = data, Model = model, Judge = "gold", JudgeNoiseTau = 0.75, SamplesPerPrompt = 4, MaxNewTokens = 16, Threads = 1 }, noisyDir);
            Assert.Equal(pairs, noisy["pairs"]!.GetValue<int>());
            Assert.Equal(0.75, noisy["judge_noise_tau"]!.GetValue<double>());
            double agreement = noisy["gold/agreement"]!.GetValue<double>();
            Assert.InRange(agreement, 0.6, 0.999);

            // A reward model reads the data folder's pairs and the labelled ones together.
            var rmConfig = new Trainers.RewardConfig { Data = data, ExtraTrainFiles = [Path.Combine(noisyDir, Labeller.OutputFileName)] };
            var both = Foundation.TrainerSetup.LoadTrain(rmConfig, "prefs_train.jsonl", PreferenceDataset.Load);
            var own = PreferenceDataset.Load(Path.Combine(data, "prefs_train.jsonl"));
            Assert.Equal(own.Count + pairs, both.Count);
            Assert.Equal(own[0].Chosen.Content, both[0].Chosen.Content);
            rmConfig.ExtraTrainFiles = [Path.Combine(dir, "missing.jsonl")];
            var missing = Assert.Throws<Foundation.TrainingSetupException>(() => Foundation.TrainerSetup.LoadTrain(rmConfig, "prefs_train.jsonl", PreferenceDataset.Load));
            Assert.Contains("extra_train_files[0]", missing.Message);
            Assert.Contains("missing.jsonl", missing.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

public sealed class LocalLmJudgeTests
{
    [Theory]
    [InlineData(Verdict.A, Verdict.A, Verdict.A)]
    [InlineData(Verdict.B, Verdict.B, Verdict.B)]
    [InlineData(Verdict.A, Verdict.B, Verdict.Tie)]
    [InlineData(Verdict.B, Verdict.A, Verdict.Tie)]
    public void BothOrdersMustAgree(Verdict asked, Verdict swapped, Verdict expected) => Assert.Equal(expected, LocalLmJudge.Combine(asked, swapped));

    [Fact]
    public void AJudgeThatAlwaysSaysAIsAPositionBiasAndGivesOnlyTies()
    {
        var dir = Directory.CreateTempSubdirectory("lmjudge-").FullName;
        try
        {
            BuiltinTaskGenerator.Write(dir, new BuiltinTaskOptions { TrainPrompts = 30, EvalPrompts = 6, PreferencePairs = 4, TokenizerVocabSize = 300 });
            var tokenizer = Text.BpeTokenizer.FromDirectory(Path.Combine(dir, "tokenizer"));
            var template = ChatTemplate.Get("chatml");
            var model = new Models.Transformer.CausalLM(new Models.Config.ModelConfig { ModelType = "llama", VocabSize = tokenizer.VocabSize, HiddenSize = 32, NumLayers = 1, NumHeads = 2, NumKeyValueHeads = 1, IntermediateSize = 48, MaxPositions = 256 }, new Tensors.Generator(1));
            // Teach it to open every judging answer with "A", whatever the responses say.
            var collator = new SftCollator(tokenizer, template, new SftCollatorOptions { MaxLength = 256, PadTokenId = tokenizer.PadTokenId });
            var examples = Enumerable.Range(0, 8).Select(i => new SftExample([ChatMessage.User(LocalLmJudge.Prompt($"What is {i} + 1?", $"{i + 1}.", $"{i}.")), ChatMessage.Assistant("A")], "t", i + 1)).ToList();
            var opt = new Tensors.Optim.AdamW(model.TrainableParameters(), lr: 1e-2f);
            for (int step = 0; step < 30; step++)
            {
                opt.ZeroGrad();
                Trainers.SftTrainer.Loss(model, collator.Collate(examples)).Backward();
                opt.Step();
            }
            var judge = new LocalLmJudge(model, tokenizer, template);
            IReadOnlyList<ChatMessage> prompt = [ChatMessage.User("What is 7 + 5?")];
            var verdicts = judge.Judge([new(prompt, "12.", "13."), new(prompt, "Duh, 12.", "12."), new(prompt, "5.", "The answer is 12.")]);
            Assert.All(verdicts, v => Assert.Equal(Verdict.Tie, v));
            // …because it really does answer "A" in either order.
            Assert.All(judge.Margins([LocalLmJudge.Prompt("What is 7 + 5?", "12.", "13."), LocalLmJudge.Prompt("What is 7 + 5?", "13.", "12.")]), m => Assert.True(m > 0, $"log p(A) − log p(B) = {m}"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
