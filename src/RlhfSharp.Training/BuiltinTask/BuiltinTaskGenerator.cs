using RlhfSharp.Models.IO;
using RlhfSharp.Tensors;
using RlhfSharp.Text;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// Generates the built-in task's data folder: noisy demonstrations (SFT), noisy preference pairs
/// (reward model), prompts (RL), their held-out counterparts, stats.json, README.md and a trained tokenizer.
/// </summary>
/// <remarks>
/// Each stage draws from its own seeded stream, so e.g. changing <see cref="BuiltinTaskOptions.PreferencePairs"/>
/// leaves the prompts and demonstrations unchanged.
/// <list type="bullet">
/// <item>Prompts: <see cref="PromptSampler"/>; train and held-out share no prompt text (nor problem key with <see cref="BuiltinTaskOptions.DisjointProblems"/>).</item>
/// <item>Demonstrations: one per prompt; the styles are assigned in exactly the stated proportions
/// (largest-remainder rounding) and shuffled, so the realised fractions equal the options'.</item>
/// <item>Train pairs: the first <see cref="BuiltinTaskOptions.PreferencePairs"/> train prompts of a fresh
/// shuffle (the same prompt set as SFT, each used once), two responses with styles drawn
/// independently from the mixture; a pair with identical texts or equal gold scores is redrawn
/// (up to 100 times, else the prompt is skipped). Label: Bradley–Terry with temperature τ,
/// P(A chosen) = σ((gold_A − gold_B)/τ) (Bradley &amp; Terry 1952; as in Ouyang et al. 2022's reward model).</item>
/// <item>Held-out pairs: one per held-out prompt, drawn the same way, labelled by the noise-free gold preference.</item>
/// </list>
/// </remarks>
public static class BuiltinTaskGenerator
{
    public const string SftTrainFileName = "sft_train.jsonl", SftEvalFileName = "sft_eval.jsonl";
    public const string PrefsTrainFileName = "prefs_train.jsonl", PrefsEvalFileName = "prefs_eval.jsonl";
    public const string PromptsTrainFileName = "prompts_train.jsonl", PromptsEvalFileName = "prompts_eval.jsonl";
    /// <summary>The arithmetic prompts alone (a subset of the prompt files, same order), for verifiable-reward runs.</summary>
    public const string ArithmeticTrainFileName = "prompts_arithmetic_train.jsonl", ArithmeticEvalFileName = "prompts_arithmetic_eval.jsonl";
    public const string StatsFileName = "stats.json", ReadmeFileName = "README.md", TokenizerFolderName = "tokenizer";

    /// <summary>The AI labeller's principles for <c>rlhf label --judge constitution</c>.</summary>
    public const string ConstitutionFileName = "constitution.yaml";

    /// <summary>Attempts at a pair with different texts and different gold scores before a prompt is skipped.</summary>
    public const int MaxPairDraws = 100;

    /// <summary>Writes the data folder (created if needed; files replaced atomically) and returns what it wrote.</summary>
    public static BuiltinTaskData Write(string outDir, BuiltinTaskOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(outDir);
        var data = Generate(options ?? new BuiltinTaskOptions());
        var tokenizer = BuiltinTaskTokenizer.Train(
            data.SftTrain.Select(d => (d.Prompt, d.Completion))
                .Concat(data.PrefsTrain.SelectMany(p => new[] { (p.Prompt, p.Chosen), (p.Prompt, p.Rejected) })),
            data.Options.TokenizerVocabSize);

        Directory.CreateDirectory(outDir);
        WriteLines(outDir, SftTrainFileName, data.SftTrain.Select(d => JsonLines.Line(("prompt", d.Prompt), ("completion", d.Completion))));
        WriteLines(outDir, SftEvalFileName, data.SftEval.Select(d => JsonLines.Line(("prompt", d.Prompt), ("completion", d.Completion))));
        WriteLines(outDir, PrefsTrainFileName, data.PrefsTrain.Select(PairLine));
        WriteLines(outDir, PrefsEvalFileName, data.PrefsEval.Select(EvalPairLine));
        WriteLines(outDir, PromptsTrainFileName, data.TrainPrompts.Select(PromptLine));
        WriteLines(outDir, PromptsEvalFileName, data.EvalPrompts.Select(PromptLine));
        WriteLines(outDir, ArithmeticTrainFileName, ArithmeticOnly(data.TrainPrompts).Select(PromptLine));
        WriteLines(outDir, ArithmeticEvalFileName, ArithmeticOnly(data.EvalPrompts).Select(PromptLine));

        string tokDir = Path.Combine(outDir, TokenizerFolderName);
        Directory.CreateDirectory(tokDir);
        AtomicFile.WriteAllText(Path.Combine(tokDir, BpeTokenizer.TokenizerJsonFileName), tokenizer.ToJson());
        AtomicFile.WriteAllText(Path.Combine(tokDir, BpeTokenizer.TokenizerConfigFileName), tokenizer.ToConfigJson());

        AtomicFile.WriteAllText(Path.Combine(outDir, ConstitutionFileName), BuiltinTaskConstitution.Yaml + "\n");
        AtomicFile.WriteAllText(Path.Combine(outDir, StatsFileName), BuiltinTaskStats.ToJson(data, tokenizer.VocabSize));
        AtomicFile.WriteAllText(Path.Combine(outDir, ReadmeFileName), BuiltinTaskReadme.Write(data, tokenizer.VocabSize));
        return data;
    }

    /// <summary>The task's data in memory (no tokenizer, no files).</summary>
    public static BuiltinTaskData Generate(BuiltinTaskOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (train, eval) = PromptSampler.Split(options.TrainPrompts, options.EvalPrompts, Stream(options.Seed, 1), options.DisjointProblems);
        var sftTrain = Demonstrations(train, options, Stream(options.Seed, 2));
        var sftEval = Demonstrations(eval, options, Stream(options.Seed, 3));

        var pairRng = Stream(options.Seed, 4);
        var pairPrompts = train.ToList();
        pairRng.Shuffle(pairPrompts);
        int ties = 0;
        var prefsTrain = new List<PreferencePair>(options.PreferencePairs);
        foreach (var prompt in Enumerable.Range(0, options.PreferencePairs).Select(i => pairPrompts[i % pairPrompts.Count]))
        {
            if (DrawPair(prompt, options, pairRng, ref ties, minGap: 0) is not var (a, ga, b, gb)) continue;
            // Bradley–Terry labeller: P(a preferred) = σ((g_a − g_b)/τ).
            double pA = 1 / (1 + Math.Exp(-(ga - gb) / options.Tau));
            prefsTrain.Add(pairRng.NextDouble() < pA ? new(prompt, a, b, ga, gb) : new(prompt, b, a, gb, ga));
        }

        var evalPairRng = Stream(options.Seed, 5);
        int evalTies = 0;
        var prefsEval = new List<PreferencePair>(eval.Count);
        foreach (var prompt in eval)
        {
            if (DrawPair(prompt, options, evalPairRng, ref evalTies, options.EvalPairMinGap) is not var (a, ga, b, gb)) continue;
            prefsEval.Add(ga > gb ? new(prompt, a, b, ga, gb) : new(prompt, b, a, gb, ga));
        }
        return new BuiltinTaskData(options, train, eval, sftTrain, sftEval, prefsTrain, prefsEval, ties);
    }

    /// <summary>The style of each of <paramref name="n"/> items in exactly the stated proportions (largest remainder), shuffled.</summary>
    internal static List<ResponseStyle> StratifiedStyles(int n, IReadOnlyList<double> fractions, Generator rng)
    {
        var counts = fractions.Select(f => (int)Math.Floor(f * n)).ToArray();
        var byRemainder = Enumerable.Range(0, fractions.Count).OrderByDescending(i => fractions[i] * n - counts[i]).ThenBy(i => i).ToList();
        for (int k = 0; counts.Sum() < n; k++) counts[byRemainder[k % byRemainder.Count]]++;
        var styles = new List<ResponseStyle>(n);
        for (int s = 0; s < counts.Length; s++) styles.AddRange(Enumerable.Repeat((ResponseStyle)s, counts[s]));
        rng.Shuffle(styles);
        return styles;
    }

    private static List<Demonstration> Demonstrations(List<string> prompts, BuiltinTaskOptions options, Generator rng)
    {
        var styles = StratifiedStyles(prompts.Count, options.StyleFractions, rng);
        var result = new List<Demonstration>(prompts.Count);
        for (int i = 0; i < prompts.Count; i++)
        {
            var problem = TaskPrompts.Parse(prompts[i]);
            string completion = ResponseWriter.Write(problem, styles[i], rng, options.StyleFractions);
            result.Add(new Demonstration(prompts[i], completion, styles[i], GoldScorer.Default.Explain(problem, completion).Total));
        }
        return result;
    }

    private static (string A, double GoldA, string B, double GoldB)? DrawPair(string prompt, BuiltinTaskOptions options, Generator rng, ref int ties, double minGap)
    {
        var problem = TaskPrompts.Parse(prompt);
        for (int attempt = 0; attempt < MaxPairDraws; attempt++)
        {
            string a = ResponseWriter.Write(problem, SampleStyle(options, rng), rng, options.StyleFractions);
            string b = ResponseWriter.Write(problem, SampleStyle(options, rng), rng, options.StyleFractions);
            if (a == b) continue;
            double ga = GoldScorer.Default.Explain(problem, a).Total, gb = GoldScorer.Default.Explain(problem, b).Total;
            if (Math.Abs(ga - gb) < 1e-9)
            {
                ties++;
                continue;
            }
            if (Math.Abs(ga - gb) < minGap)
                continue;
            return (a, ga, b, gb);
        }
        return null;
    }

    private static ResponseStyle SampleStyle(BuiltinTaskOptions options, Generator rng)
    {
        double u = rng.NextDouble(), cumulative = 0;
        var f = options.StyleFractions;
        for (int s = 0; s < f.Count; s++)
        {
            cumulative += f[s];
            if (u < cumulative && f[s] > 0) return (ResponseStyle)s;
        }
        int last = f.Count - 1;
        while (f[last] <= 0) last--;
        return (ResponseStyle)last;
    }

    /// <summary>
    /// A prompt row: the prompt, its reference answer (the exact text the gold scorer counts correct,
    /// which the accuracy reward compares with) and its skill.
    /// </summary>
    internal static string PromptLine(string prompt)
    {
        var problem = TaskPrompts.Parse(prompt);
        return JsonLines.Line(("prompt", prompt), ("answer", problem.Answer), ("skill", BuiltinTaskStats.Name(problem.Skill)));
    }

    /// <summary>The arithmetic prompts among <paramref name="prompts"/>, in order.</summary>
    public static IReadOnlyList<string> ArithmeticOnly(IReadOnlyList<string> prompts)
        => [.. prompts.Where(p => TaskPrompts.Parse(p).Skill == Skill.Arithmetic)];

    private static string PairLine(PreferencePair p)
        => JsonLines.Line(("prompt", p.Prompt), ("chosen", p.Chosen), ("rejected", p.Rejected));

    // Held-out pairs also carry their gold scores (extra fields the trainers ignore) for analysis.
    private static string EvalPairLine(PreferencePair p)
        => PairLine(p)[..^1] + string.Create(System.Globalization.CultureInfo.InvariantCulture, $",\"gold_chosen\":{p.GoldChosen:R},\"gold_rejected\":{p.GoldRejected:R}}}");

    private static void WriteLines(string dir, string name, IEnumerable<string> lines)
        => AtomicFile.WriteAllText(Path.Combine(dir, name), string.Concat(lines.Select(l => l + "\n")));

    /// <summary>An independent generator per stage: the seed mixed with the stage number (splitmix64 seeding does the rest).</summary>
    private static Generator Stream(ulong seed, ulong stage) => new(seed ^ (stage * 0x9E3779B97F4A7C15UL));
}
