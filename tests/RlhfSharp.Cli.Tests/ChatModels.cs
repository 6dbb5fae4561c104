using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.TestSupport;
using RlhfSharp.Text;
using RlhfSharp.Text.Chat;

namespace RlhfSharp.Cli.Tests;

/// <summary>
/// Tiny random Llama models for <c>rlhf generate</c> and <c>rlhf chat</c>, and the library's own
/// generation to compare them with.
/// </summary>
internal static class ChatModels
{
    private static readonly (string, string)[] Conversations =
    [
        ("What is 7 + 5?", "7 + 5 = 12."),
        ("Reverse the word 'cat'.", "The word reversed is 'tac'."),
        ("Which is larger, 46 or 96?", "96 is larger than 46."),
        ("Count the letters in 'apple'.", "'apple' has 5 letters."),
        ("Sort 3, 1, 2.", "Sorted: 1, 2, 3."),
    ];

    /// <summary>
    /// Writes a model folder. Without <paramref name="withEos"/> the tokenizer has no EOS, so with
    /// the llama3 template (whose end-of-turn token this vocabulary lacks) a reply runs to its token limit.
    /// </summary>
    public static string Write(string dir, int maxPositions = 256, bool withEos = true, ulong seed = 11) =>
        TinyChatModel.Write(dir, Conversations, seed, maxPositions, withEos);

    /// <summary>
    /// The library's reply to <paramref name="prompt"/> ids: <see cref="Sampler.Generate(CausalLM, Tensor, Tensor, GenerationOptions, Generator)"/>
    /// with the given stop ids, decoded without the stop token and special tokens.
    /// </summary>
    public static string Reply(string dir, int[] prompt, int maxNewTokens, int[] stopIds, float temperature = 0f, ulong seed = 1)
    {
        var model = PretrainedIO.LoadCausalLM(dir);
        var tokenizer = BpeTokenizer.FromDirectory(dir);
        var options = new GenerationOptions
        {
            MaxNewTokens = Math.Min(maxNewTokens, model.Config.MaxPositions - prompt.Length),
            DoSample = temperature > 0,
            Temperature = temperature > 0 ? temperature : 1f,
            EosTokenIds = stopIds,
            PadTokenId = tokenizer.PadTokenId ?? 0,
        };
        var g = Sampler.Generate(model, Tensor.FromArray(prompt, 1, prompt.Length),
            Tensor.FromArray(Enumerable.Repeat(1f, prompt.Length).ToArray(), 1, prompt.Length), options, new Generator(seed));
        var row = g.ResponseIds.ToIntArray().AsSpan(0, g.ResponseLengths[0]);
        if (g.Ended[0] && row.Length > 0 && stopIds.Contains(row[^1]))
            row = row[..^1];
        return tokenizer.Decode(row, skipSpecialTokens: true);
    }

    /// <summary>The library's greedy reply to a conversation rendered with ChatML (stops: EOS and &lt;|im_end|&gt;).</summary>
    public static string ChatReply(string dir, IReadOnlyList<ChatMessage> messages, int maxNewTokens)
    {
        var tokenizer = BpeTokenizer.FromDirectory(dir);
        var ids = ChatTemplate.ChatMl.Encode(tokenizer, messages, addGenerationPrompt: true).Ids;
        int[] stops = [.. new[] { tokenizer.EosTokenId, tokenizer.TokenToId("<|im_end|>") }.OfType<int>().Distinct()];
        return Reply(dir, ids, maxNewTokens, stops);
    }

    /// <summary>The thread count this process computes with, passed to the child so that both give the same bits.</summary>
    public static string Threads => Tensors.Kernels.Engine.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
