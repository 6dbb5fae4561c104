using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public sealed partial class Tensor
{
    /// <summary>Sum of all elements. [..] -> []</summary>
    public Tensor Sum() => Sum(Enumerable.Range(0, Rank).ToArray(), keepDim: false);

    /// <summary>Sum over one dim. [.., d, ..] -> [.., (1), ..]</summary>
    public Tensor Sum(int dim, bool keepDim = false) => Sum([dim], keepDim);

    /// <summary>
    /// Sum over several dims. Summation order is fixed, so results are deterministic. A Float64
    /// tensor sums in double, sequentially in row-major order (see <see cref="SumFloat64"/>), and
    /// gives Float64.
    /// </summary>
    public Tensor Sum(int[] dims, bool keepDim = false)
    {
        if (Dtype == DType.Float64)
            return SumFloat64(dims, keepDim, "Sum");
        var (reduced, keptShape, outShape) = ReduceSum(dims, "Sum");
        var inShape = ShapeArr;
        return Record(reduced.Reshape(keepDim ? keptShape : outShape), "sum", [this], g => [g.Reshape(keptShape).Expand(inShape).Contiguous()]);
    }

    /// <summary>Mean of all elements (Float64: the double sum divided by the count in double). [..] -> []</summary>
    public Tensor Mean() => Dtype == DType.Float64 ? MeanFloat64([.. Enumerable.Range(0, Rank)], keepDim: false) : Sum().Mul(1f / Math.Max(Numel, 1));

    public Tensor Mean(int dim, bool keepDim = false) => Mean([dim], keepDim);

    public Tensor Mean(int[] dims, bool keepDim = false)
    {
        if (Dtype == DType.Float64)
            return MeanFloat64(dims, keepDim);
        long count = 1;
        foreach (var d in NormaliseDims(dims, "Mean"))
            count *= ShapeArr[d];
        return Sum(dims, keepDim).Mul(1f / Math.Max(count, 1));
    }

    /// <summary>
    /// Max over one dim with the (first) index of the max. Reads Float64 as float32 (rounded to
    /// nearest) and returns float32 values, like every op without a float64 path.
    /// [.., d, ..] -> values [.., (1), ..], indices int32
    /// </summary>
    public (Tensor Values, Tensor Indices) Max(int dim, bool keepDim = false)
    {
        int d = ShapeUtil.Dim(dim, Rank, "Max");
        if (G is not null)
            return DeviceMax(d, keepDim);
        var x = Float().Detach().Movedim(d).Contiguous();
        int n = ShapeArr[d];
        if (n == 0)
            throw new ShapeMismatchException("Max", $"cannot take the max over an empty dim {d} of {ShapeUtil.Format(ShapeArr)}");
        int rows = Numel / n;
        var values = new float[rows];
        var indices = new int[rows];
        var src = x.Span;
        for (int r = 0; r < rows; r++)
        {
            var row = src.Slice(r * n, n);
            int best = 0;
            for (int i = 1; i < n; i++)
            {
                if (row[i] > row[best] || (float.IsNaN(row[i]) && !float.IsNaN(row[best])))
                    best = i;
            }
            values[r] = row[best];
            indices[r] = best;
        }
        var kept = (int[])ShapeArr.Clone();
        kept[d] = 1;
        var outShape = keepDim ? kept : ShapeArr.Where((_, i) => i != d).ToArray();
        var idx = new Tensor(indices, outShape.ToArray());
        var inShape = ShapeArr;
        var vals = Record(new Tensor(values, outShape.ToArray()), "max", [this], g =>
        {
            // Route the gradient to the arg-max position only.
            var gd = g.Contiguous().Span;
            var full = GradBuffers.RentZeroed(ShapeUtil.Numel(inShape));
            var strides = ShapeUtil.ContiguousStrides(inShape);
            int inner = strides[d];
            for (int r = 0; r < rows; r++)
            {
                int outer = r / inner, innerIdx = r % inner;
                full[(outer * n * inner) + (indices[r] * inner) + innerIdx] = gd[r];
            }
            return [new Tensor(full, (int[])inShape.Clone())];
        });
        return (vals, idx);
    }

    /// <summary>Max of all elements. [..] -> []</summary>
    public Tensor Max() => Reshape(-1).Max(0).Values;

    /// <summary>
    /// log Σ exp over dims, computed stably (the max is subtracted). A row that is all −∞ gives −∞
    /// and a zero gradient. [.., d, ..] -> [.., (1), ..]
    /// </summary>
    public Tensor LogSumExp(int[] dims, bool keepDim = false)
    {
        var nd = NormaliseDims(dims, "LogSumExp");
        var input = Float().Detach();
        var kept = (int[])ShapeArr.Clone();
        foreach (var d in nd)
            kept[d] = 1;
        var outShape = ShapeArr.Where((_, i) => !nd.Contains(i)).ToArray();
        Tensor lse;
        using (Autograd.GradMode.NoGrad())
        {
            // Shift by the max over the reduced dims; an infinite max (an all −∞ row, or a +∞) shifts by 0.
            var m = input;
            foreach (var d in nd)
                m = m.Max(d, keepDim: true).Values;
            if (nd.Length == 0)
                m = m.Clone(); // never write into the input's storage
            var shift = m.Contiguous().Span;
            for (int i = 0; i < shift.Length; i++)
            {
                if (float.IsInfinity(shift[i]))
                    shift[i] = 0f;
            }
            lse = Binary(Binary(input, m, BinaryOp.Sub, "logsumexp").Exp().Sum(nd, keepDim: true).Log(), m, BinaryOp.Add, "logsumexp");
        }
        var result = new Tensor(lse.Span.ToArray(), keepDim ? kept : outShape);
        return Record(result, "logsumexp", [this], g =>
        {
            // d lse / dx = softmax(x) = exp(x − lse) over the reduced dims. Where lse = −∞ every x is
            // −∞ too; shifting by +∞ there makes exp(x − lse) = 0 instead of exp(NaN).
            var shiftBy = lse.Contiguous().Span.ToArray();
            for (int i = 0; i < shiftBy.Length; i++)
            {
                if (float.IsNegativeInfinity(shiftBy[i]))
                    shiftBy[i] = float.PositiveInfinity;
            }
            var p = Binary(input, new Tensor(shiftBy, kept), BinaryOp.Sub, "logsumexp").Exp();
            return [Binary(p, g.Reshape(kept), BinaryOp.Mul, "logsumexp")];
        });
    }

    public Tensor LogSumExp(int dim, bool keepDim = false) => LogSumExp([dim], keepDim);

    private int[] NormaliseDims(int[] dims, string op)
    {
        // Without LINQ: the bias gradients of every step come through here.
        var nd = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
            nd[i] = ShapeUtil.Dim(dims[i], Rank, op);
        Array.Sort(nd);
        for (int i = 1; i < nd.Length; i++)
        {
            if (nd[i] == nd[i - 1])
                throw new ArgumentException($"{op}: dims {ShapeUtil.Format(dims)} repeat a dim");
        }
        return nd;
    }

    /// <summary>Moves <paramref name="dim"/> to the end (a view).</summary>
    internal Tensor Movedim(int dim)
    {
        var perm = Enumerable.Range(0, Rank).Where(i => i != dim).Append(dim).ToArray();
        return Permute(perm);
    }

    // The dims not in nd (in order), then nd: the permutation that moves the reduced dims last.
    private int[] KeptThenReduced(int[] nd)
    {
        var perm = new int[Rank];
        int o = 0;
        for (int i = 0; i < Rank; i++)
        {
            if (Array.IndexOf(nd, i) < 0)
                perm[o++] = i;
        }
        nd.CopyTo(perm, o);
        return perm;
    }

    /// <summary>Sums over dims, without recording. Returns (values [kept shape], kept shape, squeezed shape).</summary>
    private (Tensor Values, int[] Kept, int[] Out) ReduceSum(int[] dims, string op)
    {
        if (G is not null)
            return DeviceReduceSum(dims, op);
        var nd = NormaliseDims(dims, op);
        var kept = (int[])ShapeArr.Clone();
        foreach (var d in nd)
            kept[d] = 1;
        var outShape = new int[Rank - nd.Length];
        for (int i = 0, o = 0; i < Rank; i++)
        {
            if (Array.IndexOf(nd, i) < 0)
                outShape[o++] = ShapeArr[i];
        }
        var x = Float().Detach();
        if (nd.Length == 0)
            return (x.Contiguous().Clone(), kept, outShape);

        // Reduced dims form a prefix: accumulate rows. A suffix: sum each row. Otherwise move them last.
        // nd is sorted and distinct: a prefix ends at nd.Length - 1, a suffix starts at Rank - nd.Length.
        bool prefix = nd[^1] == nd.Length - 1;
        bool suffix = nd[0] == Rank - nd.Length;
        int reduceCount = 1;
        foreach (var d in nd)
            reduceCount *= ShapeArr[d];
        int outCount = reduceCount == 0 ? ShapeUtil.Numel(kept) : Numel / reduceCount;
        var result = GradBuffers.RentZeroed(outCount);
        if (prefix && !suffix)
        {
            var src = x.Contiguous().Span;
            for (int r = 0; r < reduceCount; r++)
                TensorPrimitives.Add(result, src.Slice(r * outCount, outCount), result);
        }
        else
        {
            var moved = suffix ? x : x.Permute(KeptThenReduced(nd));
            var src = moved.Contiguous().Span;
            for (int r = 0; r < outCount; r++)
                result[r] = TensorPrimitives.Sum(src.Slice(r * reduceCount, reduceCount));
        }
        return (new Tensor(result, kept), kept, outShape);
    }
}
