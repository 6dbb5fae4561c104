namespace RlhfSharp.Tensors;

// The device forms of the fused functional ops: the same contracts as the CPU forms (see each op),
// computed by the device's engine with the backward passes wired into the same autograd.
public static partial class F
{
    /// <summary>softmax or log-softmax over the last dim on x's device; backward from the saved output.</summary>
    private static Tensor DeviceSoftmax(Tensor x, bool log)
    {
        var backend = x.Backend;
        int cols = x.ShapeArr[^1];
        int rows = cols == 0 ? 0 : x.Numel / cols;
        var xc = x.Float().Detach().Contiguous();
        var y = backend.Softmax(xc, rows, cols, log);
        return Tensor.Record(y, log ? "log_softmax" : "softmax", [x], g => [backend.SoftmaxGrad(y, g.Contiguous(), rows, cols, log)]);
    }

    private static Tensor DeviceNorm(Tensor x, Tensor? weight, Tensor? bias, float eps, bool rms)
    {
        string op = rms ? "RmsNorm" : "LayerNorm";
        var backend = Tensor.DeviceOf(op, x, weight, bias)!;
        int c = x.ShapeArr[^1];
        int rows = c == 0 ? 0 : x.Numel / c;
        var xc = Tensor.OnBackend(backend, x, op).Float().Detach().Contiguous();
        var w = weight is null ? null : Tensor.OnBackend(backend, weight, op).Float().Detach().Contiguous();
        var b = bias is null ? null : Tensor.OnBackend(backend, bias, op).Float().Detach().Contiguous();
        var (y, mean, rstd) = backend.Norm(xc, w, b, rows, c, eps, rms);
        Tensor?[] inputs = weight is null ? (bias is null ? [x] : [x, bias]) : (bias is null ? [x, weight] : [x, weight, bias]);
        return Tensor.Record(y, rms ? "rms_norm" : "layer_norm", inputs!, g =>
        {
            bool needParams = (weight?.RequiresGrad ?? false) || (bias?.RequiresGrad ?? false);
            var (dx, dw, db) = backend.NormGrad(xc, w, mean, rstd, g.Contiguous(), rows, c, rms, needParams);
            var grads = new List<Tensor?> { x.RequiresGrad ? dx : null };
            if (weight is not null)
                grads.Add(weight.RequiresGrad ? dw : null);
            if (bias is not null)
                grads.Add(bias.RequiresGrad ? db : null);
            return [.. grads];
        });
    }

    private static Tensor DeviceEmbedding(Tensor weight, Tensor ids)
    {
        var backend = Tensor.DeviceOf("Embedding", weight, ids)!;
        int v = weight.ShapeArr[0], c = weight.ShapeArr[1], n = ids.Numel;
        var idc = Tensor.OnBackend(backend, ids, "Embedding").Contiguous();
        var y = backend.Embedding(Tensor.OnBackend(backend, weight, "Embedding").Float().Detach().Contiguous(), idc, n).Reshape([.. ids.ShapeArr, c]);
        return Tensor.Record(y, "embedding", [weight], g => [backend.EmbeddingGrad(g.Contiguous(), idc, n, v, c)]);
    }

    /// <summary>Token log-probs on the device; ignored rows (id = ignoreIndex) give 0 and no gradient.</summary>
    private static Tensor DeviceTokenLogProbs(Tensor logits, Tensor ids, int ignoreIndex, string op)
    {
        var backend = Tensor.DeviceOf(op, logits, ids)!;
        if (ids.Dtype != DType.Int32)
            throw new ArgumentException($"{op}: ids must be an int32 tensor, got {ids.Dtype}");
        var lead = logits.ShapeArr[..^1];
        if (!ShapeUtil.SameShape(ids.ShapeArr, lead))
            throw new ShapeMismatchException(op, $"ids shape {ShapeUtil.Format(ids.ShapeArr)} must equal the logits shape {ShapeUtil.Format(logits.ShapeArr)} without its last dim, i.e. {ShapeUtil.Format(lead)}");
        int v = logits.ShapeArr[^1];
        int rows = ids.Numel;
        var x = Tensor.OnBackend(backend, logits, op).Float().Detach().Contiguous();
        var idc = Tensor.OnBackend(backend, ids, op).Contiguous();
        var (logp, max, sum) = backend.TokenLogProbs(x, idc, rows, v, ignoreIndex);
        var result = logp.Reshape(ids.Shape);
        return Tensor.Record(result, op, [logits], g =>
            [backend.TokenLogProbsGrad(x, idc, max, sum, g.Contiguous(), rows, v, ignoreIndex).Reshape(logits.Shape)]);
    }

    private static Tensor DeviceCrossEntropy(Tensor logits, Tensor targets, int ignoreIndex, Reduction reduction)
    {
        var loss = DeviceTokenLogProbs(logits, targets, ignoreIndex, "cross_entropy").Neg();
        if (reduction == Reduction.None)
            return loss;
        var total = loss.Sum();
        if (reduction == Reduction.Sum)
            return total;
        // Mean over the non-ignored targets, counted on the device.
        var onDevice = Tensor.OnBackend(loss.Backend, targets, "cross_entropy");
        var counted = Tensor.Where(onDevice.Float().Sub((float)ignoreIndex), Tensor.Scalar(1f), Tensor.Scalar(0f)).Sum();
        return total.Div(counted);
    }

    private static Tensor DeviceEntropy(Tensor logits)
    {
        var backend = logits.Backend;
        int v = logits.ShapeArr[^1];
        int rows = v == 0 ? 0 : logits.Numel / v;
        var x = logits.Float().Detach().Contiguous();
        var (h, max, logSum) = backend.Entropy(x, rows, v);
        return Tensor.Record(h.Reshape(logits.ShapeArr[..^1]), "entropy", [logits], g =>
            [backend.EntropyGrad(x, h, max, logSum, g.Contiguous(), rows, v).Reshape(logits.Shape)]);
    }

    /// <summary>RoPE on the device with the cache's tables (uploaded once per cache and device).</summary>
    private static Tensor DeviceRope(Tensor x, Tensor positions, RopeCache cache)
    {
        var backend = x.Backend;
        var (cos, sin) = cache.OnDevice(backend);
        var pos = (positions.IsOnDevice ? positions : positions.To(x.Device)).Contiguous();
        bool perBatch = positions.Rank == 2;
        int rd = cache.RotaryDim;
        var xf = x.Float().Detach();
        var y = backend.Rope(xf, pos, perBatch, cos, sin, rd, 1f);
        return Tensor.Record(y, "rope", [x], g => [backend.Rope(g.Contiguous(), pos, perBatch, cos, sin, rd, -1f)]);
    }

    /// <summary>
    /// Attention on the device, composed: S = scale·Q Kᵀ (kv heads repeated for grouped-query
    /// attention), P = masked softmax(S) (the same end-aligned causal and padding rules; rows that
    /// see no key give 0), O = P V. Backward flows through the GEMMs and dS = P ⊙ (dP − rowsum(dP ⊙ P)).
    /// </summary>
    private static Tensor DeviceAttention(Tensor q, Tensor k, Tensor v, bool causal, Tensor? keyPaddingMask, float scale,
        (int B, int H, int Hkv, int Tq, int Tk, int D, int Dv) s)
    {
        var backend = Tensor.DeviceOf("ScaledDotProductAttention", q, k, v, keyPaddingMask)!;
        int group = s.H / s.Hkv;
        if (group > 1)
        {
            k = k.Unsqueeze(2).Expand(s.B, s.Hkv, group, s.Tk, s.D).Reshape(s.B, s.H, s.Tk, s.D);
            v = v.Unsqueeze(2).Expand(s.B, s.Hkv, group, s.Tk, s.Dv).Reshape(s.B, s.H, s.Tk, s.Dv);
        }
        var scores = q.Matmul(k.Transpose(-1, -2)).Mul(scale).Contiguous();
        var mask = keyPaddingMask is null ? null : Tensor.OnBackend(backend, keyPaddingMask, "ScaledDotProductAttention").Float().Detach().Contiguous();
        int rows = s.B * s.H * s.Tq;
        var p = backend.MaskedSoftmax(scores.Detach(), rows, s.Tk, s.Tq, s.H, causal, mask);
        var probs = Tensor.Record(p, "masked_softmax", [scores], g => [backend.SoftmaxGrad(p, g.Contiguous(), rows, s.Tk, log: false)]);
        return probs.Matmul(v);
    }

    /// <summary>
    /// Dropout on the device with the mask drawn from <paramref name="rng"/> on the host, one draw per
    /// element in row-major order as on the CPU, so both engines drop the same elements; the scaled
    /// mask is uploaded (one transfer per call).
    /// </summary>
    private static Tensor DeviceDropout(Tensor x, float p, Generator rng)
    {
        float scale = p == 1f ? 0f : 1f / (1f - p);
        var mask = new float[x.Numel];
        for (int i = 0; i < mask.Length; i++)
            mask[i] = rng.NextFloat() >= p ? scale : 0f;
        var m = Tensor.Wrap(mask, x.ShapeArr).To(x.Device);
        return x.Mul(m);
    }
}
