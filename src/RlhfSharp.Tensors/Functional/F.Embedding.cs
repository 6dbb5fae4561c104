using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// Row lookup: out[.., :] = weight[ids[..], :]. A bf16 weight is converted row by row, a float64
    /// one read as float32. Backward scatter-adds the gradient rows into a [V, C] gradient (only
    /// when the weight requires grad; bf16 and float64 weights never do); saved: the ids.
    /// weight [V, C], ids int32 [..] -> [.., C]
    /// </summary>
    public static Tensor Embedding(Tensor weight, Tensor ids)
    {
        if (weight.Rank != 2)
            throw new ShapeMismatchException("Embedding", $"weight must be [V, C], got {ShapeUtil.Format(weight.ShapeArr)}");
        if (ids.Dtype != DType.Int32)
            throw new ArgumentException($"Embedding: ids must be an int32 tensor, got {ids.Dtype}");
        if (weight.IsOnDevice || ids.IsOnDevice)
            return DeviceEmbedding(weight, ids);
        int v = weight.ShapeArr[0], c = weight.ShapeArr[1];
        var idx = ids.IntsForReading();
        for (int i = 0; i < idx.Length; i++)
        {
            if ((uint)idx[i] >= (uint)v)
                throw new IndexOutOfRangeException($"Embedding: id {idx[i]} at flat position {i} is out of range for a vocabulary of {v} rows (valid ids: 0..{v - 1})");
        }
        // Rows are read as float32: a bf16 weight row by row below, a float64 one converted (rounded
        // to nearest) as a whole first.
        var w = weight.Dtype == DType.Float64 ? weight.Float() : weight.Contiguous().Detach();
        var y = Uninit(idx.Length * c);
        if (w.Dtype == DType.BFloat16)
        {
            var h = w.HalfSpan;
            for (int i = 0; i < idx.Length; i++)
                BFloat16.ToFloat(h.Slice(idx[i] * c, c), y.AsSpan(i * c, c));
        }
        else
        {
            var f = w.Span;
            for (int i = 0; i < idx.Length; i++)
                f.Slice(idx[i] * c, c).CopyTo(y.AsSpan(i * c, c));
        }
        var result = Tensor.Wrap(y, [.. ids.ShapeArr, c]);
        return Tensor.Record(result, "embedding", [weight], g =>
        {
            var gd = Dense(g);
            var dw = GradBuffers.RentZeroed(v * c);
            // Sequential in id order: repeated ids accumulate in a fixed order.
            for (int i = 0; i < idx.Length; i++)
            {
                var dst = dw.AsSpan(idx[i] * c, c);
                TensorPrimitives.Add(dst, gd.AsSpan(i * c, c), dst);
            }
            return [Tensor.Wrap(dw, v, c)];
        });
    }
}
