using System.Text.Json;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Rewards.Verifiers;

/// <summary>The scores an <see cref="AccuracyVerifier"/> gives: a correct answer, a wrong one, and a response with no answer to read.</summary>
public sealed record AccuracyScores(double Correct = 1, double Incorrect = 0, double Unparseable = 0);

/// <summary>
/// The verifiable reward (name "accuracy"): the answer an <see cref="AnswerExtractor"/> reads from the
/// response, compared by an <see cref="AnswerComparer"/> with the reference answer the prompt row
/// carries (field <c>label</c>, else <c>answer</c>, unless one field is named). It needs the rows:
/// a prompt without its row has no reference, so the text-only entry points refuse.
/// </summary>
public sealed class AccuracyVerifier(AnswerExtractor extractor, AnswerComparer comparer, string? field = null, AccuracyScores? scores = null) : IRewardSource
{
    /// <summary>The fields read when none is named, in order.</summary>
    public static IReadOnlyList<string> DefaultFields { get; } = ["label", "answer"];

    public string Name => "accuracy";

    public AnswerExtractor Extractor { get; } = extractor ?? throw new ArgumentNullException(nameof(extractor));

    public AnswerComparer Comparer { get; } = comparer ?? throw new ArgumentNullException(nameof(comparer));

    /// <summary>The field holding the reference answer, or null for <see cref="DefaultFields"/>.</summary>
    public string? Field { get; } = string.IsNullOrEmpty(field) ? null : field;

    public AccuracyScores Scores { get; } = scores ?? new AccuracyScores();

    /// <exception cref="NotSupportedException">Always: bare prompt texts carry no reference answer.</exception>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
        => throw new NotSupportedException("reward_funcs: accuracy compares with the reference answer of each prompt row, and was given prompts without their rows; use a prompt file (JSONL or Parquet) whose rows carry it");

    public double[] ScoreExamples(IReadOnlyList<PromptExample> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        var result = new double[prompts.Count];
        for (int i = 0; i < result.Length; i++)
        {
            // The reference is read first, so a row without one stops the run whatever the response.
            var reference = Reference(prompts[i]);
            var answer = Extractor.Extract(responses[i]);
            result[i] = answer is null ? Scores.Unparseable
                : Comparer.Equal(answer, reference) ? Scores.Correct : Scores.Incorrect;
        }
        return result;
    }

    /// <summary>Whether the response's answer equals the row's reference (an unreadable answer is wrong).</summary>
    public bool IsCorrect(PromptExample prompt, string response)
    {
        var reference = Reference(prompt);
        return Extractor.Extract(response) is { } answer && Comparer.Equal(answer, reference);
    }

    /// <summary>The row's reference answer as text (a JSON number as written).</summary>
    /// <exception cref="DataFormatException">The row has no such field, or it is not a string or number.</exception>
    public string Reference(PromptExample prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var fields = Field is null ? DefaultFields : [Field];
        foreach (var f in fields)
        {
            if (!prompt.Extra.TryGetValue(f, out var value))
                continue;
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Number => value.GetRawText(),
                _ => throw new DataFormatException(DataErrorKind.WrongType, prompt.Source, prompt.Line, f,
                    $"the reference answer must be a string or a number, got {value.ValueKind.ToString().ToLowerInvariant()}"),
            };
        }
        throw new DataFormatException(DataErrorKind.MissingField, prompt.Source, prompt.Line, fields[0],
            $"the accuracy reward needs a reference answer in {(Field is null ? "\"label\" or \"answer\"" : $"\"{Field}\" (accuracy_field)")}; this row has {(prompt.Extra.Count == 0 ? "no field besides the prompt" : "only " + string.Join(", ", prompt.Extra.Keys.Select(k => $"\"{k}\"")))}");
    }
}
