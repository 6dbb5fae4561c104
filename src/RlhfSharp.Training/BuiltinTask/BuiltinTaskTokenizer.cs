using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>
/// The built-in task's tokenizer: byte-level BPE trained on the task's train conversations as
/// rendered by the ChatML template, with the special tokens that template and the trainers use.
/// </summary>
/// <remarks>
/// ChatML is the task's template because its end-of-turn marker &lt;|im_end|&gt; is one special token:
/// generation stops at it when it is the EOS token, and SFT learns to emit it as the last
/// assistant token. Ids: 0 &lt;|pad|&gt;, 1 &lt;|bos|&gt;, 2 &lt;|im_end|&gt; (EOS), 3 &lt;|im_start|&gt;,
/// 4–259 the bytes, then the merges. Encoding adds no BOS or EOS by itself; the template writes the markers.
/// </remarks>
public static class BuiltinTaskTokenizer
{
    public const string PadToken = "<|pad|>";
    public const string BosToken = "<|bos|>";
    public const string EosToken = "<|im_end|>";
    public const string TurnStartToken = "<|im_start|>";

    /// <summary>The chat template name (<see cref="ChatTemplate.Get"/>) the task's conversations use.</summary>
    public const string ChatTemplateName = "chatml";

    /// <summary>The special tokens in id order.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = [PadToken, BosToken, EosToken, TurnStartToken];

    public static ChatTemplate Template => ChatTemplate.Get(ChatTemplateName);

    /// <summary>The conversation text one (prompt, response) pair renders to.</summary>
    public static string Render(string prompt, string response)
        => Template.Render([ChatMessage.User(prompt), ChatMessage.Assistant(response)]).Text;

    /// <summary>
    /// Every digit is a piece of its own (as in Llama and Qwen tokenizers), then GPT-2's byte-level
    /// split. Numbers are then written digit by digit, so 46 and 96 share their last token and a
    /// small model can compare, add and test parity place by place instead of learning a separate
    /// token for each number.
    /// </summary>
    public static PreTokenizer PreTokenizer => new SequencePreTokenizer(
    [
        new SplitPreTokenizer(@"\p{N}", isRegex: true, SplitBehavior.Isolated, invert: false),
        new ByteLevelPreTokenizer(addPrefixSpace: false, useRegex: true),
    ]);

    /// <summary>Trains the vocabulary on the rendered conversations (pairs occurring fewer than twice are never merged).</summary>
    public static BpeTokenizer Train(IEnumerable<(string Prompt, string Response)> conversations, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        var options = new BpeTrainerOptions
        {
            VocabSize = vocabSize,
            MinFrequency = 2,
            SpecialTokens = SpecialTokens,
            BosToken = BosToken,
            EosToken = EosToken,
            PadToken = PadToken,
            PreTokenizer = PreTokenizer,
        };
        return BpeTrainer.Train(conversations.Select(c => Render(c.Prompt, c.Response)), options);
    }
}
