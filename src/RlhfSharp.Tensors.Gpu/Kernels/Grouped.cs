using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace RlhfSharp.Tensors.Gpu.Kernels;

/// <summary>Marks a kernel launched with explicit groups (one group per row) rather than one index per thread.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class GroupedKernelAttribute : Attribute;

/// <summary>
/// Row kernels with one group of threads per row (rows grid-strided over the groups): the group's
/// threads read the row together, adjacent threads adjacent elements (coalesced), and combine
/// their partial sums and maxima with group-wide reductions. This is how rows thousands of
/// elements long (a vocabulary) are read at memory speed on a GPU; one thread per row would read
/// them one element at a time. Same formulas and saved statistics as <see cref="Rows"/>,
/// <see cref="Norms"/> and <see cref="Tokens"/>.
/// </summary>
internal static class Grouped
{
    private static float Sum(float v) => GroupExtensions.AllReduce<float, AddFloat>(v);

    private static float Max(float v) => GroupExtensions.AllReduce<float, MaxFloat>(v);

    // The group's maximum of x[o .. o + n).
    private static float RowMax(ArrayView<float> x, int o, int n)
    {
        float m = float.NegativeInfinity;
        for (int j = Group.IdxX; j < n; j += Group.DimX)
            m = MathF.Max(m, x[o + j]);
        return Max(m);
    }

    // The group's Σ exp(x − m) over x[o .. o + n).
    private static float RowSumExp(ArrayView<float> x, int o, int n, float m)
    {
        float s = 0f;
        for (int j = Group.IdxX; j < n; j += Group.DimX)
            s += MathF.Exp(x[o + j] - m);
        return Sum(s);
    }

    // Below this the group found no finite maximum (the reduction's identity is −float.MaxValue).
    private const float NoMax = -1e38f;

    // x [rows, cols] -> y [rows]
    [GroupedKernel]
    public static void Sum(int rows, int cols, ArrayView<float> x, ArrayView<float> y)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            float s = 0f;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                s += x[(r * cols) + c];
            s = Sum(s);
            if (Group.IsFirstThread)
                y[r] = s;
            Group.Barrier();
        }
    }

    // x [rows, cols] -> softmax, or log-softmax when log != 0
    [GroupedKernel]
    public static void Softmax(int rows, int cols, int log, ArrayView<float> x, ArrayView<float> y)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int o = r * cols;
            float m = RowMax(x, o, cols);
            float s = RowSumExp(x, o, cols, m);
            float lse = m + MathF.Log(s);
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                y[o + c] = log != 0 ? x[o + c] - lse : MathF.Exp(x[o + c] - m) / s;
            Group.Barrier();
        }
    }

    // softmax: dx = y ⊙ (g − Σ g⊙y); log-softmax: dx = g − exp(y)·Σg
    [GroupedKernel]
    public static void SoftmaxGrad(int rows, int cols, int log, ArrayView<float> y, ArrayView<float> g, ArrayView<float> dx)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int o = r * cols;
            float s = 0f;
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                s += log != 0 ? g[o + c] : g[o + c] * y[o + c];
            s = Sum(s);
            for (int c = Group.IdxX; c < cols; c += Group.DimX)
                dx[o + c] = log != 0 ? g[o + c] - (MathF.Exp(y[o + c]) * s) : y[o + c] * (g[o + c] - s);
            Group.Barrier();
        }
    }

    // logits [rows, V], ids [rows] -> logp, max, sum [rows] (0 where the id is ignoreIndex, NaN out of range)
    [GroupedKernel]
    public static void LogProbs(int rows, int v, int ignoreIndex, ArrayView<float> x, ArrayView<int> ids, ArrayView<float> logp, ArrayView<float> max, ArrayView<float> sum)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int o = r * v;
            float m = RowMax(x, o, v);
            float s = RowSumExp(x, o, v, m);
            if (Group.IsFirstThread)
            {
                max[r] = m;
                sum[r] = s;
                int id = ids[r];
                if (id == ignoreIndex)
                    logp[r] = 0f;
                else
                    logp[r] = id >= 0 && id < v ? x[o + id] - m - MathF.Log(s) : float.NaN;
            }
            Group.Barrier();
        }
    }

    // H = log Σe − Σ e·(z − m) / Σe, −∞ logits contributing 0 -> h, max, logSum [rows]
    [GroupedKernel]
    public static void Entropy(int rows, int v, ArrayView<float> x, ArrayView<float> h, ArrayView<float> max, ArrayView<float> logSum)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int o = r * v;
            float m = RowMax(x, o, v);
            float s = 0f, weighted = 0f;
            for (int j = Group.IdxX; j < v; j += Group.DimX)
            {
                float z = x[o + j];
                if (z == float.NegativeInfinity)
                    continue;
                float e = MathF.Exp(z - m);
                s += e;
                weighted += e * (z - m);
            }
            s = Sum(s);
            weighted = Sum(weighted);
            if (Group.IsFirstThread)
            {
                max[r] = m;
                logSum[r] = MathF.Log(s);
                h[r] = MathF.Log(s) - (weighted / s);
            }
            Group.Barrier();
        }
    }

    // LayerNorm / RMSNorm forward (flags: 1 = weight, 2 = bias, 4 = rms) -> y [rows, C], mean, rstd [rows]
    [GroupedKernel]
    public static void NormForward(int rows, int c, int flags, float eps,
        ArrayView<float> x, ArrayView<float> w, ArrayView<float> b, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> rstd)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int o = r * c;
            float mu = 0f;
            if ((flags & 4) == 0)
            {
                float s = 0f;
                for (int j = Group.IdxX; j < c; j += Group.DimX)
                    s += x[o + j];
                mu = Sum(s) / c;
            }
            float q = 0f;
            for (int j = Group.IdxX; j < c; j += Group.DimX)
            {
                float d = x[o + j] - mu;
                q += d * d;
            }
            float rs = 1f / MathF.Sqrt((Sum(q) / c) + eps);
            if (Group.IsFirstThread)
            {
                mean[r] = mu;
                rstd[r] = rs;
            }
            for (int j = Group.IdxX; j < c; j += Group.DimX)
            {
                float val = (x[o + j] - mu) * rs;
                if ((flags & 1) != 0)
                    val *= w[j];
                if ((flags & 2) != 0)
                    val += b[j];
                y[o + j] = val;
            }
            Group.Barrier();
        }
    }

    // dx = rstd·(g⊙w − mean(g⊙w) − x̂·mean(g⊙w⊙x̂)); RMSNorm drops the first mean
    [GroupedKernel]
    public static void NormInputGrad(int rows, int c, int flags,
        ArrayView<float> x, ArrayView<float> w, ArrayView<float> mean, ArrayView<float> rstd, ArrayView<float> g, ArrayView<float> dx)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int o = r * c;
            float mu = mean[r], rs = rstd[r];
            float sumG = 0f, sumGx = 0f;
            for (int j = Group.IdxX; j < c; j += Group.DimX)
            {
                float gw = (flags & 1) != 0 ? g[o + j] * w[j] : g[o + j];
                sumG += gw;
                sumGx += gw * (x[o + j] - mu) * rs;
            }
            sumG = Sum(sumG);
            sumGx = Sum(sumGx);
            float meanG = (flags & 4) != 0 ? 0f : sumG / c;
            float meanGx = sumGx / c;
            for (int j = Group.IdxX; j < c; j += Group.DimX)
            {
                float gw = (flags & 1) != 0 ? g[o + j] * w[j] : g[o + j];
                dx[o + j] = rs * (gw - meanG - ((x[o + j] - mu) * rs * meanGx));
            }
            Group.Barrier();
        }
    }

    // Attention probabilities from scores [B·H·Tq, Tk] (see Attention.MaskedSoftmax)
    [GroupedKernel]
    public static void MaskedSoftmax(int rows, int tk, int tq, int hn, int causal, int hasMask,
        ArrayView<float> s, ArrayView<float> keyMask, ArrayView<float> p)
    {
        for (int r = Grid.IdxX; r < rows; r += Grid.DimX)
        {
            int i = r % tq;
            int b = r / (hn * tq);
            int o = r * tk;
            int allowed = causal != 0 ? tk - tq + i + 1 : tk;
            if (allowed > tk)
                allowed = tk;
            float m = float.NegativeInfinity;
            for (int j = Group.IdxX; j < allowed; j += Group.DimX)
            {
                if (hasMask == 0 || keyMask[(b * tk) + j] != 0f)
                    m = MathF.Max(m, s[o + j]);
            }
            m = Max(m);
            bool any = m > NoMax;
            float sum = 0f;
            for (int j = Group.IdxX; j < tk; j += Group.DimX)
            {
                bool live = any && j < allowed && (hasMask == 0 || keyMask[(b * tk) + j] != 0f);
                float e = live ? MathF.Exp(s[o + j] - m) : 0f;
                p[o + j] = e;
                sum += e;
            }
            sum = Sum(sum);
            float inv = sum > 0f ? 1f / sum : 0f;
            for (int j = Group.IdxX; j < tk; j += Group.DimX)
                p[o + j] *= inv;
            Group.Barrier();
        }
    }
}
