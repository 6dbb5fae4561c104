using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Models.Generation;

/// <summary>
/// Batched autoregressive generation with a KV cache: one prefill pass over the left-padded
/// prompts, then one single-token pass per step. Every drawn token's log-prob under the
/// temperature-scaled softmax is returned, equal (to fp tolerance) to a teacher-forced forward.
/// </summary>
public static class Sampler
{
    // prompt ids [B, P] int32 (left-padded), prompt mask [B, P] -> GenerationResult
    public static GenerationResult Generate(CausalLM model, Tensor promptIds, Tensor promptMask, GenerationOptions options, Generator rng) =>
        Generate(model, promptIds, promptMask, options, _ => rng);

    /// <summary>
    /// As <see cref="Generate(CausalLM, Tensor, Tensor, GenerationOptions, Generator)"/>, with row
    /// r's tokens drawn from <c>rowRngs[r]</c> alone: a row's response then depends only on its
    /// prompt and its own generator, not on which other rows share the batch (so data-parallel
    /// ranks that each answer a share of the prompts draw what one process would).
    /// </summary>
    public static GenerationResult Generate(CausalLM model, Tensor promptIds, Tensor promptMask, GenerationOptions options, IReadOnlyList<Generator> rowRngs)
    {
        ArgumentNullException.ThrowIfNull(rowRngs);
        if (rowRngs.Count != promptIds.Size(0))
            throw new ArgumentException($"{rowRngs.Count} row generators for {promptIds.Size(0)} prompts; give one per row", nameof(rowRngs));
        return Generate(model, promptIds, promptMask, options, r => rowRngs[r]);
    }

    private static GenerationResult Generate(CausalLM model, Tensor promptIds, Tensor promptMask, GenerationOptions options, Func<int, Generator> rng)
    {
        options.Validate();
        if (promptIds.Rank != 2 || promptIds.Dtype != DType.Int32)
            throw new ArgumentException($"prompt ids must be an int32 tensor [B, P], got {promptIds.Dtype} [{string.Join(", ", promptIds.Shape)}]");
        if (!promptMask.Shape.SequenceEqual(promptIds.Shape))
            throw new ArgumentException($"prompt mask [{string.Join(", ", promptMask.Shape)}] must match prompt ids [{string.Join(", ", promptIds.Shape)}]");
        int b = promptIds.Size(0), p = promptIds.Size(1), n = options.MaxNewTokens;
        if (p + n > model.Config.MaxPositions)
            throw new ArgumentException($"prompt ({p}) + max new tokens ({n}) exceeds the model's {model.Config.MaxPositions} positions");

        using var _ = GradMode.NoGrad();
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            return Run(model, promptIds, promptMask, options, rng, b, p, n);
        }
        finally
        {
            model.Train(wasTraining);
        }
    }

    private static GenerationResult Run(CausalLM model, Tensor promptIds, Tensor promptMask, GenerationOptions o, Func<int, Generator> rng, int b, int p, int n)
    {
        var mask = new float[b * (p + n)];
        var pm = promptMask.ToArray();
        for (int r = 0; r < b; r++)
            pm.AsSpan(r * p, p).CopyTo(mask.AsSpan(r * (p + n), p));
        var responses = new int[b * n];
        var responseMask = new float[b * n];
        var logProbs = new float[b * n];
        var lengths = new int[b];
        var ended = new bool[b];
        var stopped = new bool[b];
        var eos = new HashSet<int>(o.EosTokenIds);
        var cache = model.NewCache(b, p + n);

        // On a device, the prompt goes there once and each step's new tokens follow; the last
        // position's logits come back to be sampled here.
        var device = model.Device;
        var logits = Last(model.Forward(promptIds.To(device), MaskPrefix(mask, b, p + n, p), cache)); // [B, V]
        int steps = 0;
        // On a device without top-k / top-p, tokens are drawn there from uniforms drawn here in the
        // host sampler's order (one per live row), so only tokens and log-probs come back.
        bool drawOnDevice = !device.IsCpu && o.TopK == 0 && o.TopP >= 1f;
        // On the CPU each later step runs the single-token decoder over buffers it keeps, and rows
        // are drawn straight from its logits.
        var decoder = device.IsCpu && n > 1 ? DecodeStep.TryCreate(model, cache) : null;
        int v = logits.Size(1);
        var rows = drawOnDevice ? null : logits.ToArray();
        var next = new int[b];
        var weights = new float[v];
        double[]? uniforms = drawOnDevice && o.DoSample ? new double[b] : null;
        try
        {
            for (int step = 0; step < n; step++)
            {
                if (o.StopRow is not null && StopRows(o.StopRow, ended, stopped))
                    break;
                int[]? drawn = null;
                float[]? drawnLp = null;
                if (drawOnDevice)
                {
                    if (uniforms is not null)
                    {
                        for (int r = 0; r < b; r++)
                            uniforms[r] = ended[r] ? 0.0 : rng(r).NextDouble();
                    }
                    (drawn, drawnLp) = F.DrawTokens(logits, o.Temperature, !o.DoSample, uniforms);
                }
                bool allEnded = true;
                for (int r = 0; r < b; r++)
                {
                    if (ended[r])
                    {
                        next[r] = o.PadTokenId;
                        responses[(r * n) + step] = o.PadTokenId;
                        continue;
                    }
                    var (token, lp) = drawn is not null ? (drawn[r], drawnLp![r]) : Draw(rows.AsSpan(r * v, v), o, rng(r), weights);
                    next[r] = token;
                    responses[(r * n) + step] = token;
                    responseMask[(r * n) + step] = 1f;
                    logProbs[(r * n) + step] = lp;
                    mask[(r * (p + n)) + p + step] = 1f;
                    lengths[r] = step + 1;
                    if (eos.Contains(token) || HitsStopString(responses.AsSpan(r * n, step + 1), o))
                        ended[r] = true;
                    o.OnToken?.Invoke(new SampledToken(r, step, token, ended[r]));
                    allEnded &= ended[r];
                }
                steps = step + 1;
                if (allEnded || step == n - 1)
                    break;
                if (decoder is not null)
                {
                    decoder.Run(next, mask, p + n);
                    rows = decoder.Logits;
                }
                else
                {
                    logits = Last(model.Forward(Tensor.FromArray(next, b, 1).To(device), MaskPrefix(mask, b, p + n, p + step + 1), cache));
                    if (!drawOnDevice)
                        rows = logits.ToArray();
                }
            }
        }
        finally
        {
            decoder?.Release();
        }

        // A stopped row did not end by itself: Ended keeps its meaning (EOS or a stop string).
        for (int r = 0; r < b; r++)
            ended[r] &= !stopped[r];

        // Trim the response columns to the steps actually taken.
        var seq = new int[b * (p + steps)];
        var seqMask = new float[b * (p + steps)];
        var ids = promptIds.ToIntArray();
        var resp = new int[b * steps];
        var respMask = new float[b * steps];
        var lps = new float[b * steps];
        for (int r = 0; r < b; r++)
        {
            ids.AsSpan(r * p, p).CopyTo(seq.AsSpan(r * (p + steps), p));
            responses.AsSpan(r * n, steps).CopyTo(seq.AsSpan((r * (p + steps)) + p, steps));
            mask.AsSpan(r * (p + n), p + steps).CopyTo(seqMask.AsSpan(r * (p + steps), p + steps));
            responses.AsSpan(r * n, steps).CopyTo(resp.AsSpan(r * steps, steps));
            responseMask.AsSpan(r * n, steps).CopyTo(respMask.AsSpan(r * steps, steps));
            logProbs.AsSpan(r * n, steps).CopyTo(lps.AsSpan(r * steps, steps));
        }
        return new GenerationResult(
            Tensor.FromArray(seq, b, p + steps),
            Tensor.FromArray(seqMask, b, p + steps),
            Tensor.FromArray(resp, b, steps),
            Tensor.FromArray(respMask, b, steps),
            Tensor.FromArray(lps, b, steps),
            lengths,
            ended,
            p)
        { Stopped = stopped };
    }

    // Marks the rows the caller no longer wants as ended; true when no row is left running.
    private static bool StopRows(Func<int, bool> stopRow, bool[] ended, bool[] stopped)
    {
        bool allEnded = true;
        for (int r = 0; r < ended.Length; r++)
        {
            if (!ended[r] && stopRow(r))
            {
                ended[r] = true;
                stopped[r] = true;
            }
            allEnded &= ended[r];
        }
        return allEnded;
    }

    private static Tensor Last(Tensor logits) => logits.Select(1, logits.Size(1) - 1).Contiguous(); // [B, T, V] -> [B, V]

    private static Tensor MaskPrefix(float[] mask, int b, int stride, int len)
    {
        var m = new float[b * len];
        for (int r = 0; r < b; r++)
            mask.AsSpan(r * stride, len).CopyTo(m.AsSpan(r * len, len));
        return Tensor.FromArray(m, b, len);
    }

    private static bool HitsStopString(ReadOnlySpan<int> response, GenerationOptions o)
    {
        if (o.StopStrings.Count == 0)
            return false;
        var text = o.Decode!(response.ToArray());
        foreach (var s in o.StopStrings)
        {
            if (text.Contains(s, StringComparison.Ordinal))
                return true;
        }
        return false;
    }

    /// <summary>Draws one token from a logit row; returns it with its log-prob under softmax(logits / T).</summary>
    internal static (int Token, float LogProb) Draw(ReadOnlySpan<float> logits, GenerationOptions o, Generator rng) =>
        Draw(logits, o, rng, new float[logits.Length]);

    /// <summary>As <see cref="Draw(ReadOnlySpan{float}, GenerationOptions, Generator)"/> with the softmax weights written to <paramref name="w"/> [V].</summary>
    private static (int Token, float LogProb) Draw(ReadOnlySpan<float> logits, GenerationOptions o, Generator rng, float[] w)
    {
        int v = logits.Length;
        float inv = 1f / o.Temperature;
        float max = float.NegativeInfinity;
        int argmax = 0;
        for (int i = 0; i < v; i++)
        {
            if (logits[i] > max)
            {
                max = logits[i];
                argmax = i;
            }
        }
        double total = 0;
        for (int i = 0; i < v; i++)
        {
            w[i] = MathF.Exp((logits[i] - max) * inv);
            total += w[i];
        }
        float logZ = (float)Math.Log(total);
        int token;
        if (!o.DoSample)
        {
            token = argmax;
        }
        else if ((o.TopK <= 0 || o.TopK >= v) && o.TopP >= 1f)
        {
            token = rng.SampleIndex(w.AsSpan(0, v), total);
        }
        else
        {
            var filtered = Filter(w, o.TopK, o.TopP, out double kept);
            token = rng.SampleIndex(filtered, kept);
        }
        float lp = ((logits[token] - max) * inv) - logZ;
        return (token, lp);
    }

    // Zeroes the weights outside the top-k / nucleus; returns the kept weights and their total.
    private static float[] Filter(float[] w, int topK, float topP, out double kept)
    {
        if ((topK <= 0 || topK >= w.Length) && topP >= 1f)
        {
            kept = w.Sum(x => (double)x);
            return w;
        }
        var order = Enumerable.Range(0, w.Length).OrderByDescending(i => w[i]).ThenBy(i => i).ToArray();
        int limit = topK > 0 ? Math.Min(topK, w.Length) : w.Length;
        double total = w.Sum(x => (double)x);
        var result = new float[w.Length];
        double acc = 0;
        kept = 0;
        for (int j = 0; j < limit; j++)
        {
            int i = order[j];
            result[i] = w[i];
            kept += w[i];
            acc += w[i] / total;
            if (acc >= topP)
                break;
        }
        return result;
    }
}
