using RlhfSharp.Models.Generation;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Text;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Sampling;

namespace RlhfSharp.Training.Evaluation;

/// <summary>
/// How policies are compared on held-out prompts, shared by <c>rlhf pipeline</c> and <c>rlhf eval</c>
/// so that both give the same answers for the same model, prompts and seed: prompts in fixed chunks,
/// each policy sampled from a fresh generator seeded by <see cref="SampleSeed"/>, and pairwise win
/// rates in which ties count half.
/// </summary>
public static class PolicyComparison
{
    /// <summary>Prompts generated together; a fixed size, so that the sample stream does not depend on anything else.</summary>
    public const int ChunkSize = 64;

    /// <summary>Prompt tokens kept (left-truncated) and response tokens generated in the comparison.</summary>
    public const int MaxPromptLength = 32, MaxNewTokens = 24;

    /// <summary>The seed every policy's samples are drawn from, for a run seed.</summary>
    public static ulong SampleSeed(int seed) => (ulong)seed + 2000;

    /// <summary>
    /// One response per prompt, in chunks of <see cref="ChunkSize"/> from one generator seeded with
    /// <paramref name="seed"/>; <paramref name="onChunk"/> sees each chunk's rollouts (for log-probs).
    /// </summary>
    public static List<string> Answer(CausalLM policy, PromptCollator collator, BpeTokenizer tokenizer, IReadOnlyList<PromptExample> prompts,
        GenerationOptions options, ulong seed, Action<RolloutBatch>? onChunk = null)
    {
        var rng = new Generator(seed);
        var texts = new List<string>(prompts.Count);
        for (int start = 0; start < prompts.Count; start += ChunkSize)
        {
            var chunk = prompts.Skip(start).Take(ChunkSize).ToList();
            var rollout = Rollouts.Generate(policy, collator, tokenizer, chunk, options, rng);
            texts.AddRange(rollout.Texts);
            onChunk?.Invoke(rollout);
        }
        return texts;
    }

    /// <summary>Words per response, averaged (whitespace-separated).</summary>
    public static double MeanWords(IEnumerable<string> responses) =>
        responses.Select(t => t.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length).DefaultIfEmpty(0).Average();

    /// <summary>
    /// The pairwise win-rate matrix of policies scored on the same prompts: entry [i, j] is the
    /// fraction of prompts where policy i scores higher than policy j, ties counting half (so
    /// [i, j] + [j, i] = 1); the diagonal is NaN.
    /// </summary>
    public static double[,] WinRateMatrix(IReadOnlyList<IReadOnlyList<double>> scores)
    {
        int n = scores.Count;
        var matrix = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
                matrix[i, j] = i == j ? double.NaN : PolicyEvaluator.WinRate(scores[i], scores[j]);
        }
        return matrix;
    }
}
