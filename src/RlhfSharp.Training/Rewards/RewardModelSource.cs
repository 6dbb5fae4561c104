using RlhfSharp.Models.Transformer;
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
            var s = Model.Forward(batch.InputIds, batch.AttentionMask).ToArray();
            for (int i = 0; i < n; i++)
                scores[start + i] = s[i];
        }
        return scores;
    }
}
