using LLama;
using LLama.Native;

namespace RlhfSharp.Cli.Tests;

/// <summary>Greedy decoding in llama.cpp from token ids, so its own text tokenization plays no part.</summary>
internal static class LlamaCppGreedy
{
    /// <summary>The prompt ids in one batch, then one token at a time, each the arg-max of the last logits.</summary>
    public static int[] Generate(LLamaContext ctx, int[] prompt, int newTokens)
    {
        ctx.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Length; i++)
            batch.Add(prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
        var result = new int[newTokens];
        for (int s = 0; s < newTokens; s++)
        {
            Assert.Equal(DecodeResult.Ok, ctx.Decode(batch));
            var logits = ctx.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int best = 0;
            for (int v = 1; v < logits.Length; v++)
            {
                if (logits[v] > logits[best])
                    best = v;
            }
            result[s] = best;
            batch.Clear();
            batch.Add(best, prompt.Length + s, LLamaSeqId.Zero, true);
        }
        return result;
    }
}
