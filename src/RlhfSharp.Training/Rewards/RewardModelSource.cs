using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Rewards;

/// <summary>
/// A trained reward model (an HF sequence-classification folder written by <c>rlhf rm</c>) as a
/// reward source: each (prompt, response) is rendered with the chat template exactly as the
/// reward model saw its training pairs, truncated the same way, and scored in batches without
/// gradients. The model's own tokenizer is used, so it may differ from the policy's.
/// </summary>
public sealed class RewardModelSource : IRewardSource
{
    private readonly SftCollator _collator;
    private readonly ResponseFrame _frame;
    private readonly int _padId;

    public RewardModelSource(SequenceScorer model, BpeTokenizer tokenizer, ChatTemplate template, int maxLength, int maxPromptLength, int batchSize = 64, string name = "reward_model")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(template);
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        Model = model;
        Name = name;
        BatchSize = batchSize;
        _collator = new SftCollator(tokenizer, template, new SftCollatorOptions
        {
            MaxLength = Math.Min(maxLength, model.Config.MaxPositions),
            MaxPromptLength = maxPromptLength,
            PadTokenId = tokenizer.PadTokenId,
        });
        _frame = ResponseFrame.Of(template);
        _padId = _collator.PadTokenId;
        model.Freeze();
        model.Eval();
    }

    /// <summary>Loads the reward model and its tokenizer from <paramref name="directory"/>.</summary>
    public static RewardModelSource Load(string directory, ChatTemplate template, int maxLength, int maxPromptLength, int batchSize = 64, bool bfloat16 = false)
    {
        var tokenizer = BpeTokenizer.FromDirectory(directory);
        TokenizerModelCheck.Check(tokenizer, directory, directory);
        var model = PretrainedIO.LoadScorer(directory);
        if (bfloat16)
            model.ToBFloat16();
        return new RewardModelSource(model, tokenizer, template, maxLength, maxPromptLength, batchSize);
    }

    public string Name { get; }

    public SequenceScorer Model { get; }

    public int BatchSize { get; }

    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        return ScoreDialogues([.. prompts.Select(p => (IReadOnlyList<ChatMessage>)[ChatMessage.User(p)])], responses);
    }

    public double[] ScoreDialogues(IReadOnlyList<IReadOnlyList<ChatMessage>> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        var scores = new double[prompts.Count];
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < prompts.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, prompts.Count - start);
            var examples = new List<SftExample>(n);
            for (int i = start; i < start + n; i++)
                examples.Add(new SftExample([.. prompts[i], ChatMessage.Assistant(responses[i])], Name, i + 1));
            var batch = _collator.Collate(examples);
            float[] s;
            using (TensorArena.Phase())
                s = Model.Forward(batch.InputIds, batch.AttentionMask).ToArray();
            for (int i = 0; i < n; i++)
                scores[start + i] = s[i];
        }
        return scores;
    }

    /// <summary>
    /// Scores responses to prompts already rendered with the chat template (generation prompt
    /// included), as a remote reward request carries them. The prompt text is read as the
    /// template's output: added tokens in it are control tokens; the response is plain text, so a
    /// literal "&lt;|im_end|&gt;" in it stays text, and the template's end-of-turn marker follows it.
    /// For a prompt whose messages hold no added-token strings this scores exactly what
    /// <see cref="ScoreDialogues"/> scores for the same dialogue and response.
    /// </summary>
    public double[] ScoreRendered(IReadOnlyList<string> renderedPrompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(renderedPrompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (renderedPrompts.Count != responses.Count)
            throw new ArgumentException($"{renderedPrompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        var scores = new double[renderedPrompts.Count];
        using var _ = GradMode.NoGrad();
        for (int start = 0; start < renderedPrompts.Count; start += BatchSize)
        {
            int n = Math.Min(BatchSize, renderedPrompts.Count - start);
            var rows = new int[n][];
            for (int i = 0; i < n; i++)
                rows[i] = _collator.Tokenize(_frame.Render(renderedPrompts[start + i], responses[start + i]), Name, start + i + 1).Ids;
            var (ids, attention) = Padding.Pad(rows, rows.Max(r => r.Length), _padId, left: false);
            float[] s;
            using (TensorArena.Phase())
                s = Model.Forward(ids, attention).ToArray();
            for (int i = 0; i < n; i++)
                scores[start + i] = s[i];
        }
        return scores;
    }
}
