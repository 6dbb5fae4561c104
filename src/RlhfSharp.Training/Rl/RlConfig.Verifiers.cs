using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Rewards.Verifiers;

namespace RlhfSharp.Training.Rl;

/// <summary>The keys of the rule verifiers <c>reward_funcs</c> may list: accuracy, format and length.</summary>
public abstract partial class RlConfig
{
    [ConfigKey("accuracy_field", "accuracy: the prompt-row field holding the reference answer; empty = label, else answer")]
    public string AccuracyField { get; set; } = "";

    [ConfigKey("accuracy_extractor", "accuracy: how the answer is read from the response: last_number (the last integer or decimal), boxed (the last \\boxed{...}), regex (accuracy_pattern's first capture group, first match) or text (the whole response, trimmed)")]
    public string AccuracyExtractor { get; set; } = "last_number";

    [ConfigKey("accuracy_pattern", "accuracy: the regex extractor's pattern, with one capture group holding the answer")]
    public string AccuracyPattern { get; set; } = "";

    [ConfigKey("accuracy_tolerance", "accuracy: numbers are equal when |answer - reference| <= this")]
    public double AccuracyTolerance { get; set; } = 1e-6;

    [ConfigKey("accuracy_normalize_text", "accuracy: compare non-numeric answers with whitespace collapsed, case ignored and a final '.' dropped (false: exactly)")]
    public bool AccuracyNormalizeText { get; set; } = true;

    [ConfigKey("accuracy_correct", "accuracy: the score of a correct answer")]
    public double AccuracyCorrect { get; set; } = 1;

    [ConfigKey("accuracy_incorrect", "accuracy: the score of a wrong answer")]
    public double AccuracyIncorrect { get; set; }

    [ConfigKey("accuracy_unparseable", "accuracy: the score of a response the extractor finds no answer in")]
    public double AccuracyUnparseable { get; set; }

    [ConfigKey("format_pattern", "format: the regex a well-formed response matches (score 1, else 0); required when reward_funcs lists format")]
    public string FormatPattern { get; set; } = "";

    [ConfigKey("format_match", "format: full (the whole trimmed response must match, like re.fullmatch) or search (a match anywhere, like re.search)")]
    public string FormatMatch { get; set; } = "full";

    [ConfigKey("length_unit", "length: count words (whitespace-separated) or chars")]
    public string LengthUnit { get; set; } = "words";

    [ConfigKey("length_target", "length: responses up to this many words/chars cost nothing")]
    public int LengthTarget { get; set; } = 50;

    [ConfigKey("length_penalty", "length: the score is -length_penalty * max(0, length - length_target)")]
    public double LengthPenaltyPerUnit { get; set; } = 0.01;

    /// <summary>The accuracy verifier these keys describe.</summary>
    /// <exception cref="TrainingSetupException">A key's value cannot be used (named in the message).</exception>
    internal AccuracyVerifier BuildAccuracy()
    {
        AnswerExtractor extractor;
        try
        {
            extractor = AnswerExtractor.Create(AccuracyExtractor, AccuracyPattern);
        }
        catch (ArgumentException e)
        {
            throw new TrainingSetupException($"{(AccuracyExtractor == "regex" ? "accuracy_pattern" : "accuracy_extractor")}: {e.Message}");
        }
        if (!(AccuracyTolerance >= 0) || !double.IsFinite(AccuracyTolerance))
            throw new TrainingSetupException($"accuracy_tolerance must be a finite number >= 0, got {AccuracyTolerance}");
        return new AccuracyVerifier(extractor, new AnswerComparer(AccuracyTolerance, AccuracyNormalizeText), AccuracyField,
            new AccuracyScores(AccuracyCorrect, AccuracyIncorrect, AccuracyUnparseable));
    }

    /// <summary>The format verifier these keys describe.</summary>
    /// <exception cref="TrainingSetupException">No pattern, a pattern that does not parse, or an unknown match mode.</exception>
    internal FormatVerifier BuildFormat()
    {
        if (string.IsNullOrEmpty(FormatPattern))
            throw new TrainingSetupException("format_pattern: reward_funcs lists format, so give the regex a well-formed response matches, e.g. \"^The answer is \\d+\\.$\"");
        if (!FormatVerifier.Modes.Contains(FormatMatch))
            throw new TrainingSetupException($"format_match: unknown mode '{FormatMatch}'; valid: {string.Join(", ", FormatVerifier.Modes)}");
        try
        {
            return new FormatVerifier(FormatPattern, FormatMatch == "full");
        }
        catch (ArgumentException e)
        {
            throw new TrainingSetupException($"format_pattern: {e.Message}");
        }
    }

    /// <summary>The length penalty these keys describe.</summary>
    /// <exception cref="TrainingSetupException">An unknown unit, a negative target or penalty.</exception>
    internal LengthPenalty BuildLength()
    {
        if (!Rewards.Verifiers.LengthPenalty.Units.Contains(LengthUnit))
            throw new TrainingSetupException($"length_unit: unknown unit '{LengthUnit}'; valid: {string.Join(", ", Rewards.Verifiers.LengthPenalty.Units)}");
        if (LengthTarget < 0 || !(LengthPenaltyPerUnit >= 0) || !double.IsFinite(LengthPenaltyPerUnit))
            throw new TrainingSetupException($"length_target and length_penalty must be >= 0, got {LengthTarget} and {LengthPenaltyPerUnit}");
        return new LengthPenalty(LengthUnit, LengthTarget, LengthPenaltyPerUnit);
    }

    /// <summary>Problems with the keys of the verifiers reward_funcs lists (the others' keys are not read).</summary>
    private IEnumerable<string> ValidateVerifiers()
    {
        var builders = new (string Name, Action Build)[]
        {
            ("accuracy", () => BuildAccuracy()),
            ("format", () => BuildFormat()),
            ("length", () => BuildLength()),
        };
        foreach (var (name, build) in builders.Where(b => RewardFuncs.Contains(b.Name)))
        {
            string? problem = null;
            try
            {
                build();
            }
            catch (TrainingSetupException e)
            {
                problem = e.Message;
            }
            if (problem is not null)
                yield return problem;
        }
    }
}
