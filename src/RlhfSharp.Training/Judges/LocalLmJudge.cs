using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Judges;

/// <summary>
/// A local language model as the judge (RLAIF as in Lee et al. 2023): it reads a judging prompt
/// holding the question and the two responses, and its verdict is whichever of the tokens "A" and
/// "B" it finds more likely as the first token of its answer. Every pair is asked twice, with the
/// responses in both orders; a judge that prefers a position rather than a response answers the
/// same letter both times, and such disagreements are ties.
/// </summary>
public sealed class LocalLmJudge : IPreferenceJudge
{
    private readonly CausalLM _model;
    private readonly PromptCollator _collator;
    private readonly int _tokenA, _tokenB;
    private readonly int _batchSize;

    public LocalLmJudge(CausalLM model, BpeTokenizer tokenizer, ChatTemplate template, int maxPromptLength = 512, int batchSize = 16)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        _model = model;
        _collator = new PromptCollator(tokenizer, template, new CollatorOptions { MaxPromptLength = Math.Min(maxPromptLength, model.Config.MaxPositions), PadTokenId = tokenizer.PadTokenId });
        _tokenA = SingleToken(tokenizer, "A");
        _tokenB = SingleToken(tokenizer, "B");
        _batchSize = batchSize > 0 ? batchSize : throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
    }

    public string Name => "local_lm";

    /// <summary>The judging prompt: the question and the two responses, then the instruction to answer A or B.</summary>
    public static string Prompt(string question, string first, string second) =>
        $"Which response answers the question better: correct, polite and concise?\nQuestion: {question}\nResponse A: {first}\nResponse B: {second}\nAnswer with A or B.";

    public IReadOnlyList<Verdict> Judge(IReadOnlyList<JudgeItem> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var forward = Margins([.. items.Select(i => Prompt(i.PromptText, i.A, i.B))]);
        var swapped = Margins([.. items.Select(i => Prompt(i.PromptText, i.B, i.A))]);
        return [.. forward.Zip(swapped, (f, s) => Combine(f > 0 ? Verdict.A : Verdict.B, s > 0 ? Verdict.B : Verdict.A))];
    }

    /// <summary>
    /// The verdict from both orders, each already mapped back to the original labels: equal
    /// answers stand, different answers (a preference for a position) are a tie.
    /// </summary>
    public static Verdict Combine(Verdict asked, Verdict askedSwapped) => asked == askedSwapped ? asked : Verdict.Tie;

    // log p("A") − log p("B") for the first answer token after each judging prompt.
    internal double[] Margins(IReadOnlyList<string> prompts)
    {
        var margins = new double[prompts.Count];
        using var _ = GradMode.NoGrad();
        bool training = _model.Training;
        _model.Eval();
        try
        {
            for (int start = 0; start < prompts.Count; start += _batchSize)
            {
                var chunk = prompts.Skip(start).Take(_batchSize).Select((p, i) => new PromptExample([ChatMessage.User(p)], Name, start + i + 1)).ToList();
                var batch = _collator.Collate(chunk);
                var logits = _model.Forward(batch.InputIds, batch.AttentionMask);   // [B, P, V]; left padding puts every prompt's end in the last column
                int p = logits.Size(1), v = logits.Size(2);
                var last = logits.Narrow(1, p - 1, 1).Contiguous().ToArray();
                for (int r = 0; r < chunk.Count; r++)
                    margins[start + r] = last[(r * v) + _tokenA] - last[(r * v) + _tokenB]; // same softmax, so the logit gap is the log-prob gap
            }
        }
        finally
        {
            _model.Train(training);
        }
        return margins;
    }

    private static int SingleToken(BpeTokenizer tokenizer, string text)
    {
        var ids = tokenizer.Encode(text);
        return ids.Length == 1 ? ids[0] : throw new ArgumentException($"the judge model's tokenizer splits \"{text}\" into {ids.Length} tokens; the local judge needs it as one token");
    }
}
