namespace RlhfSharp.Training.BuiltinTask;

/// <summary>Settings of <see cref="BuiltinTaskGenerator"/>; the same options give byte-identical files.</summary>
public sealed record BuiltinTaskOptions
{
    /// <summary>Seed of every random choice (prompts, splits, styles, labels).</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Distinct train prompts (sft_train and prompts_train hold one line each).</summary>
    public int TrainPrompts { get; init; } = 6000;

    /// <summary>Distinct held-out prompts (sft_eval, prefs_eval and prompts_eval hold one line each).</summary>
    public int EvalPrompts { get; init; } = 200;

    /// <summary>
    /// Whether held-out prompts must ask problems no train prompt asks (false: they only have to be
    /// new texts). By default a held-out prompt is a new wording whose facts (7 + 5 = 12, the letters
    /// of "cat") the train prompts may teach under another wording, as a pretrained model knows
    /// facts before alignment, so the held-out set measures what alignment changes: whether the
    /// policy answers what it knows, politely and concisely. True measures generalisation to new
    /// problems instead, which a small model learns far more slowly.
    /// </summary>
    public bool DisjointProblems { get; init; }

    /// <summary>Noisy preference pairs for reward-model training, each on a different train prompt (at most <see cref="TrainPrompts"/>).</summary>
    public int PreferencePairs { get; init; } = 8000;

    /// <summary>
    /// Smallest gold-score gap of a held-out preference pair. Pairs closer than this (say one
    /// extra filler word, 0.05) are coin flips for any labeller; the held-out set keeps the pairs
    /// with a clear preference, the training set keeps every pair. More pairs than training
    /// prompts reuse the prompts in turn with fresh responses.
    /// </summary>
    public double EvalPairMinGap { get; init; } = 0.5;

    /// <summary>Share of demonstrations and preference responses that are concise and correct.</summary>
    public double IdealFraction { get; init; } = 0.40;

    /// <summary>Share that are correct but wrapped in filler.</summary>
    public double VerboseFraction { get; init; } = 0.20;

    /// <summary>Share that are correct but rude.</summary>
    public double RudeFraction { get; init; } = 0.25;

    /// <summary>Share that are wrong (each in the form of an ideal, verbose or rude response, in their proportions).</summary>
    public double WrongFraction { get; init; } = 0.15;

    /// <summary>
    /// Labeller temperature τ of Bradley–Terry label noise: P(A preferred) = σ((gold_A − gold_B)/τ).
    /// 0.75 puts the labels' agreement with the noise-free gold preference near 75 % (InstructGPT's
    /// labellers agreed with each other about 73 % of the time, Ouyang et al. 2022). Measured on the
    /// default data, the expected agreement mean σ(|Δgold|/τ) is 0.85 at τ = 0.4, 0.81 at 0.5, 0.76 at 0.7,
    /// 0.74 at 0.8 and 0.71 at 1.0.
    /// </summary>
    public double Tau { get; init; } = 0.75;

    /// <summary>Vocabulary size of the trained tokenizer, counting its 4 special tokens and 256 byte tokens.</summary>
    public int TokenizerVocabSize { get; init; } = 512;

    /// <summary>The fractions in <see cref="ResponseStyle"/> order.</summary>
    public IReadOnlyList<double> StyleFractions => [IdealFraction, VerboseFraction, RudeFraction, WrongFraction];

    /// <summary>Throws <see cref="ArgumentException"/> naming the first bad option.</summary>
    public void Validate()
    {
        if (TrainPrompts < 1) throw new ArgumentException($"TrainPrompts must be at least 1 (got {TrainPrompts}).");
        if (EvalPrompts < 1) throw new ArgumentException($"EvalPrompts must be at least 1 (got {EvalPrompts}).");
        if (PreferencePairs < 0)
            throw new ArgumentException($"PreferencePairs must be at least 0 (got {PreferencePairs}).");
        if (!(EvalPairMinGap >= 0) || EvalPairMinGap > 2)
            throw new ArgumentException($"EvalPairMinGap must be in [0, 2] (got {EvalPairMinGap}).");
        var f = StyleFractions;
        if (f.Any(x => x < 0 || double.IsNaN(x)) || Math.Abs(f.Sum() - 1) > 1e-9)
            throw new ArgumentException($"The style fractions must be non-negative and sum to 1 (got ideal {IdealFraction}, verbose {VerboseFraction}, rude {RudeFraction}, wrong {WrongFraction}).");
        if (!(Tau > 0) || double.IsInfinity(Tau)) throw new ArgumentException($"Tau must be a positive number (got {Tau}).");
        if (TokenizerVocabSize < BuiltinTaskTokenizer.SpecialTokens.Count + 256)
            throw new ArgumentException($"TokenizerVocabSize must be at least {BuiltinTaskTokenizer.SpecialTokens.Count + 256} (got {TokenizerVocabSize}).");
    }
}
