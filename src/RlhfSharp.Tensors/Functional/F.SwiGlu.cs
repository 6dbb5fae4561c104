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
        var gs = gate.F.AsSpan(gate.Offset, n);
        var us = up.F.AsSpan(up.Offset, n);
        var s = GradBuffers.Rent(n);
        SiluKernels.Silu(gs, s);
        var y = GradBuffers.Rent(n);
        TensorPrimitives.Multiply(s, us, y);
        return Tensor.Record(new Tensor(y, (int[])gate.ShapeArr.Clone()), "swiglu", [gate, up], g =>
        {
            var gd = g.Contiguous();
            var gv = gd.F.AsSpan(gd.Offset, n);
            Tensor? dGate = null, dUp = null;
            if (gate.RequiresGrad)
            {
                var d = GradBuffers.Rent(n);
                TensorPrimitives.Multiply(gv, up.F.AsSpan(up.Offset, n), d);
                SiluKernels.SiluBackward(gate.F.AsSpan(gate.Offset, n), d, d);
                dGate = new Tensor(d, (int[])gate.ShapeArr.Clone());
            }
            if (up.RequiresGrad)
            {
                var d = GradBuffers.Rent(n);
                TensorPrimitives.Multiply(gv, s, d);
                dUp = new Tensor(d, (int[])up.ShapeArr.Clone());
            }
            return [dGate, dUp];
        });
    }
}
