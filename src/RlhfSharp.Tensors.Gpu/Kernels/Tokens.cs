using ILGPU;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>
/// Token kernels: embedding lookup and its scatter-add backward, and the backward passes of the
/// log-probabilities of chosen tokens and of entropy (their forwards are in <see cref="Grouped"/>). An id
/// outside [0, V) is never read or written: it gives NaN (log-probs, embedding rows), which the
/// trainers' non-finite checks catch, instead of reading device memory out of bounds.
/// </summary>
internal static class Tokens
{
    // w [V, C], ids [n] -> y [n, C]
    public static void Embedding(Index1D t, int total, int threads, int c, int v, ArrayView<float> w, ArrayView<int> ids, ArrayView<float> y)
    {
        for (int e = t; e < total; e += threads)
        {
            int i = e / c, j = e - (i * c);
            int id = ids[i];
            y[e] = id >= 0 && id < v ? w[(id * c) + j] : float.NaN;
        }
    }

    // dw[ids[i], j] += g[i, j] (atomic: repeated ids add in an unspecified order). -> dw [V, C], zeroed before
    public static void EmbeddingGrad(Index1D t, int total, int threads, int c, int v, ArrayView<float> g, ArrayView<int> ids, ArrayView<float> dw)
    {
        for (int e = t; e < total; e += threads)
        {
            int i = e / c, j = e - (i * c);
            int id = ids[i];
            if (id >= 0 && id < v)
                Atomic.Add(ref dw[(id * c) + j], g[e]);
        }
    }

    // dlogits[r, j] = g[r]·(onehot(id) − softmax)_j; ignored rows get 0. -> dx [rows, V]
    public static void LogProbsGrad(Index1D t, int total, int threads, int v, int ignoreIndex,
        ArrayView<float> x, ArrayView<int> ids, ArrayView<float> max, ArrayView<float> sum, ArrayView<float> g, ArrayView<float> dx)
    {
        for (int e = t; e < total; e += threads)
        {
            int r = e / v, j = e - (r * v);
            int id = ids[r];
            if (id == ignoreIndex)
            {
                dx[e] = 0f;
                continue;
            }
            float p = MathF.Exp(x[e] - max[r]) / sum[r];
            dx[e] = g[r] * ((j == id ? 1f : 0f) - p);
        }
    }

    // dH/dz = −p ⊙ (log p + H), with p = 0 where z = −∞. -> dx [rows, V]
    public static void EntropyGrad(Index1D t, int total, int threads, int v,
        ArrayView<float> x, ArrayView<float> h, ArrayView<float> max, ArrayView<float> logSum, ArrayView<float> g, ArrayView<float> dx)
    {
        for (int e = t; e < total; e += threads)
        {
            int r = e / v;
            float z = x[e];
            if (z == float.NegativeInfinity)
            {
                dx[e] = 0f;
                continue;
            }
            float logp = z - max[r] - logSum[r];
            dx[e] = -g[r] * MathF.Exp(logp) * (logp + h[r]);
        }
    }
}

/// <summary>
/// Gathers along one dim of a contiguous [outer, n, inner] tensor: y[o, j, k] = x[o, idx, k] with idx
/// = index[o, j, k] (Gather) or index[j] (IndexSelect); an index outside [0, n) gives NaN (int32:
/// int.MinValue). The backward adds the gradient back at the gathered places (atomically).
/// </summary>
internal static class Gathers
{
    public static void Float(Index1D t, int total, int threads, GatherShape s, ArrayView<float> x, ArrayView<int> index, ArrayView<float> y)
    {
        for (int e = t; e < total; e += threads)
        {
            int k = e % s.Inner, j = e / s.Inner % s.M, o = e / (s.M * s.Inner);
            int v = s.PerElement != 0 ? index[e] : index[j];
            y[e] = v >= 0 && v < s.N ? x[(((o * s.N) + v) * s.Inner) + k] : float.NaN;
        }
    }

    public static void Int(Index1D t, int total, int threads, GatherShape s, ArrayView<int> x, ArrayView<int> index, ArrayView<int> y)
    {
        for (int e = t; e < total; e += threads)
        {
            int k = e % s.Inner, j = e / s.Inner % s.M, o = e / (s.M * s.Inner);
            int v = s.PerElement != 0 ? index[e] : index[j];
            y[e] = v >= 0 && v < s.N ? x[(((o * s.N) + v) * s.Inner) + k] : int.MinValue;
        }
    }

    // dx [outer, n, inner] (zeroed before) += g [outer, m, inner] at the gathered places
    public static void ScatterAdd(Index1D t, int total, int threads, GatherShape s, ArrayView<float> g, ArrayView<int> index, ArrayView<float> dx)
    {
        for (int e = t; e < total; e += threads)
        {
            int k = e % s.Inner, j = e / s.Inner % s.M, o = e / (s.M * s.Inner);
            int v = s.PerElement != 0 ? index[e] : index[j];
            if (v >= 0 && v < s.N)
                Atomic.Add(ref dx[(((o * s.N) + v) * s.Inner) + k], g[e]);
        }
    }
}

/// <summary>The sizes of a gather: [outer, n, inner] in, [outer, m, inner] out; PerElement: Gather (1) or IndexSelect (0).</summary>
internal struct GatherShape
{
    public int Outer, N, M, Inner, PerElement;
}

/// <summary>
/// Drawing one token per row of logits on the device, as the host sampler does: softmax(x / T)
/// summed in double, then the arg-max (greedy) or the first token whose running weight passes
/// u·Σ for the row's uniform draw u (in [0, 1), passed as the two halves of a double's bits).
/// Writes (token, log-prob under softmax(x / T)) per row.
/// </summary>
internal static class Sampling
{
    public static void Draw(Index1D t, int rows, int threads, int v, float invTemperature, int greedy,
        ArrayView<float> x, ArrayView<int> uniformBits, ArrayView<float> result)
    {
        for (int r = t; r < rows; r += threads)
        {
            int o = r * v;
            float max = float.NegativeInfinity;
            int argmax = 0;
            for (int i = 0; i < v; i++)
            {
                if (x[o + i] > max)
                {
                    max = x[o + i];
                    argmax = i;
                }
            }
            double total = 0;
            for (int i = 0; i < v; i++)
                total += MathF.Exp((x[o + i] - max) * invTemperature);
            int token = argmax;
            if (greedy == 0)
            {
                ulong bits = ((ulong)(uint)uniformBits[(2 * r) + 1] << 32) | (uint)uniformBits[2 * r];
                double u = Interop.IntAsFloat(bits) * total;
                double acc = 0;
                int last = -1;
                token = -1;
                for (int i = 0; i < v && token < 0; i++)
                {
                    float w = MathF.Exp((x[o + i] - max) * invTemperature);
                    if (w <= 0f)
                        continue;
                    acc += w;
                    last = i;
                    if (u < acc)
                        token = i;
                }
                if (token < 0)
                    token = last;
            }
            float logZ = (float)Math.Log(total);
            result[2 * r] = token;
            result[(2 * r) + 1] = ((x[o + token] - max) * invTemperature) - logZ;
        }
    }
}
