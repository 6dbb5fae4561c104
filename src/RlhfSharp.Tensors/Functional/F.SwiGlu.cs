using System.Numerics.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Tensors;

public static partial class F
{
    /// <summary>
    /// SwiGLU's gating, silu(gate) ⊙ up, as one op (the Llama MLP's middle): one node instead of
    /// two, and backward computes d up = g ⊙ silu(gate) and d gate = silu'(gate) ⊙ g ⊙ up in one
    /// go. The same bits as <c>gate.Silu().Mul(up)</c>, which it falls back to for device
    /// tensors, other dtypes, strided inputs or shapes that differ (broadcasting).
    /// </summary>
    public static Tensor SwiGlu(Tensor gate, Tensor up)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(up);
        bool fused = gate.Dtype == DType.Float32 && up.Dtype == DType.Float32 && !gate.IsOnDevice && !up.IsOnDevice
            && gate.IsContiguous && up.IsContiguous && ShapeUtil.SameShape(gate.ShapeArr, up.ShapeArr);
        if (!fused)
            return gate.Silu().Mul(up);
        int n = gate.Numel;
        float[] ga = gate.F!, ua = up.F!;
        int go = gate.Offset, uo = up.Offset;
        var s = GradBuffers.Rent(n);
        var y = GradBuffers.Rent(n);
        // Element-wise, so split over threads in contiguous chunks like the other wide ops.
        Partition.For(n, 16, new SwiGluForward(ga, go, ua, uo, s, y));
        return Tensor.Record(new Tensor(y, gate.ShapeArr), "swiglu", [gate, up], g =>
        {
            var gd = g.Contiguous();
            var gv = gd.F!;
            int gvo = gd.Offset;
            var dg = gate.RequiresGrad ? GradBuffers.Rent(n) : null;
            var du = up.RequiresGrad ? GradBuffers.Rent(n) : null;
            Partition.For(n, 16, new SwiGluBackward(gv, gvo, ga, go, ua, uo, s, dg, du));
            return
            [
                dg is null ? null : new Tensor(dg, gate.ShapeArr),
                du is null ? null : new Tensor(du, up.ShapeArr),
            ];
        });
    }

    // s = silu(gate), y = s ⊙ up over elements [start, end).
    private readonly struct SwiGluForward(float[] ga, int go, float[] ua, int uo, float[] s, float[] y) : IPartitionBody
    {
        public void Run(int chunk, int start, int end)
        {
            int len = end - start;
            SiluKernels.Silu(ga.AsSpan(go + start, len), s.AsSpan(start, len));
            TensorPrimitives.Multiply(s.AsSpan(start, len), ua.AsSpan(uo + start, len), y.AsSpan(start, len));
        }
    }

    // d gate = silu'(gate) ⊙ g ⊙ up, d up = g ⊙ s over elements [start, end).
    private readonly struct SwiGluBackward(float[] gv, int gvo, float[] ga, int go, float[] ua, int uo, float[] s, float[]? dg, float[]? du) : IPartitionBody
    {
        public void Run(int chunk, int start, int end)
        {
            int len = end - start;
            var gc = gv.AsSpan(gvo + start, len);
            if (dg is not null)
            {
                var d = dg.AsSpan(start, len);
                TensorPrimitives.Multiply(gc, ua.AsSpan(uo + start, len), d);
                SiluKernels.SiluBackward(ga.AsSpan(go + start, len), d, d);
            }
            if (du is not null)
                TensorPrimitives.Multiply(gc, s.AsSpan(start, len), du.AsSpan(start, len));
        }
    }
}
