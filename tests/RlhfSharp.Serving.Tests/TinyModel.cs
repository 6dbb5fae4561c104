using RlhfSharp.TestSupport;

namespace RlhfSharp.Serving.Tests;

/// <summary>A random two-layer Llama with the built-in task's tokenizer, saved as an HF model folder.</summary>
internal static class TinyModel
{
    public const int MaxPositions = 1024;

    private static readonly (string, string)[] Conversations =
    [
        ("What is 7 + 5?", "7 + 5 = 12."),
        ("Reverse the word 'cat'.", "The word reversed is 'tac'."),
        ("Which is larger, 46 or 96?", "96 is larger than 46."),
        ("Count the letters in 'apple'.", "'apple' has 5 letters."),
        ("Sort 3, 1, 2.", "Sorted: 1, 2, 3."),
        ("Is 14 even or odd?", "14 is even."),
        ("Compare two responses and answer with one letter: A or B.", "A"),
        ("Which response is better, A or B?", "B"),
    ];

    /// <summary>
    /// Writes the model and tokenizer into <paramref name="dir"/>. Without <paramref name="withEos"/>
    /// the tokenizer has no EOS, so under the llama3 template (whose end-of-turn token this
    /// vocabulary lacks) an answer runs to its max_tokens.
    /// </summary>
    public static void Write(string dir, ulong seed = 7, int maxPositions = MaxPositions, bool withEos = true) =>
        TinyChatModel.Write(dir, Conversations, seed, maxPositions, withEos);
}
