namespace RlhfSharp.Tensors.Optim;

/// <summary>Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_).</summary>
public static class GradClip
{
    /// <summary>
    /// Computes the L2 norm of all gradients together (parameters with a null gradient are
    /// skipped) and, when it exceeds <paramref name="maxNorm"/>, scales every gradient in place by
    /// maxNorm / (norm + 1e-6). Returns the norm before clipping. The sum of squares is taken in
    /// double in a fixed order (parameters in sequence, four interleaved partial sums per tensor
    /// combined as (s0 + s1) + (s2 + s3)), so it is bit-identical run to run.
    /// A non-finite norm (a NaN or infinite gradient) is returned and the gradients are left as
    /// they are, so the caller can see it and skip the step; PyTorch would instead scale every
    /// gradient to NaN.
    /// </summary>
    public static float ClipGradNorm(IEnumerable<Tensor> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0f))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipGradNorm: maxNorm must be positive");
        var grads = new List<Tensor>();
        foreach (var p in parameters)
        {
            if (p.Grad is null)
                continue;
            if (!p.Grad.IsContiguous)
                p.Grad = p.Grad.Detach().Contiguous();
            grads.Add(p.Grad);
        }
        if (grads.Count > 0 && grads[0].IsOnDevice)
            return ClipOnDevice(grads, maxNorm);
        double sum = 0;
        foreach (var g in grads)
            sum += SumOfSquares(g.Span);
        double norm = Math.Sqrt(sum);
        if (!double.IsFinite(norm) || norm <= maxNorm)
            return (float)norm;
        float coef = (float)(maxNorm / (norm + 1e-6));
        foreach (var g in grads)
            System.Numerics.Tensors.TensorPrimitives.Multiply(g.Span, coef, g.Span);
        return (float)norm;
    }

    /// <summary>
    /// The device form: Σ g² over every gradient accumulated on the device in float32 (partial sums
    /// per thread, added atomically, so not bit-reproducible run to run), one read of the norm back
    /// to the host (the step's one transfer), then every gradient scaled on the device.
    /// </summary>
    private static float ClipOnDevice(List<Tensor> grads, float maxNorm)
    {
        var backend = grads[0].Backend;
        var acc = backend.Full(0f, [1]);
        foreach (var g in grads)
        {
            if (g.Device != acc.Device)
                throw new DeviceMismatchException($"ClipGradNorm: gradients are on {acc.Device} and {g.Device}; keep a model's parameters on one device");
            backend.AddSumOfSquares(g, acc);
        }
        double norm = Math.Sqrt(acc.Item());
        if (!double.IsFinite(norm) || norm <= maxNorm)
            return (float)norm;
        float coef = (float)(maxNorm / (norm + 1e-6));
        foreach (var g in grads)
            g.CopyFrom(g.Mul(coef));
        return (float)norm;
    }

    /// <summary>Σ x² in double with four interleaved partial sums.</summary>
    internal static double SumOfSquares(ReadOnlySpan<float> x)
    {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= x.Length; i += 4)
        {
            s0 += (double)x[i] * x[i];
            s1 += (double)x[i + 1] * x[i + 1];
            s2 += (double)x[i + 2] * x[i + 2];
            s3 += (double)x[i + 3] * x[i + 3];
        }
        for (; i < x.Length; i++)
            s0 += (double)x[i] * x[i];
        return (s0 + s1) + (s2 + s3);
    }
}
