namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// Adam with decoupled weight decay (AdamW, Loshchilov &amp; Hutter 2019, Algorithm 2), as
/// torch.optim.AdamW: p ← p − lr·λ·p, then the bias-corrected Adam step
/// p ← p − lr·m̂ / (√v̂ + ε) with m̂ = m / (1 − β1ᵗ), v̂ = v / (1 − β2ᵗ) (Kingma &amp; Ba 2015, Algorithm 1).
/// t counts each parameter's own updates. Defaults follow PyTorch (β1 0.9, β2 0.999, ε 1e-8, λ 0.01).
/// </summary>
public sealed class AdamW : Optimizer
{
    private static readonly string[] Buffers = ["exp_avg", "exp_avg_sq"];

    public AdamW(IEnumerable<Tensor> parameters, float lr = 1e-3f, double beta1 = 0.9, double beta2 = 0.999, float eps = 1e-8f, float weightDecay = 1e-2f)
        : this([new ParamGroup("default", parameters)], lr, beta1, beta2, eps, weightDecay)
    {
    }

    /// <summary>Groups without their own lr or weight decay take <paramref name="lr"/> and <paramref name="weightDecay"/>.</summary>
    public AdamW(IEnumerable<ParamGroup> groups, float lr = 1e-3f, double beta1 = 0.9, double beta2 = 0.999, float eps = 1e-8f, float weightDecay = 1e-2f)
        : base(groups, lr, weightDecay)
    {
        Check(beta1, beta2, eps);
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
    }

    /// <summary>β1, kept in double as PyTorch does, so 1 − β and the bias corrections 1 − βᵗ are exact to double.</summary>
    public double Beta1 { get; private set; }

    public double Beta2 { get; private set; }

    public float Eps { get; private set; }

    protected override string Kind => "AdamW";

    protected override IReadOnlyList<string> BufferNames => Buffers;

    protected override void Update(ParamGroup group, Span<float> param, ReadOnlySpan<float> grad, float[][] buffers, long step)
    {
        float lr = group.Lr;
        double bc1 = 1.0 - Math.Pow(Beta1, step);
        double bc2 = 1.0 - Math.Pow(Beta2, step);
        float decay = (float)(1.0 - ((double)lr * group.WeightDecay));
        AdamWKernel.Update(param, grad, buffers[0], buffers[1], decay, (float)Beta1, (float)(1.0 - Beta1), (float)Beta2, (float)(1.0 - Beta2), (float)(lr / bc1), (float)Math.Sqrt(bc2), Eps);
    }

    protected override void UpdateOnDevice(ParamGroup group, Tensor param, Tensor grad, Tensor[] buffers, long step)
    {
        float lr = group.Lr;
        double bc1 = 1.0 - Math.Pow(Beta1, step);
        double bc2 = 1.0 - Math.Pow(Beta2, step);
        float decay = (float)(1.0 - ((double)lr * group.WeightDecay));
        param.Backend.AdamW(param, grad, buffers[0], buffers[1], decay, (float)Beta1, (float)(1.0 - Beta1), (float)Beta2, (float)(1.0 - Beta2), (float)(lr / bc1), (float)Math.Sqrt(bc2), Eps);
    }

    protected override Dictionary<string, double> GetHyperparameters() => new()
    {
        ["beta1"] = Beta1,
        ["beta2"] = Beta2,
        ["eps"] = Eps,
    };

    protected override void SetHyperparameters(IReadOnlyDictionary<string, double> values)
    {
        Check(values["beta1"], values["beta2"], (float)values["eps"]);
        (Beta1, Beta2, Eps) = (values["beta1"], values["beta2"], (float)values["eps"]);
    }

    private static void Check(double beta1, double beta2, float eps)
    {
        if (!(beta1 is >= 0.0 and < 1.0) || !(beta2 is >= 0.0 and < 1.0))
            throw new ArgumentOutOfRangeException(nameof(beta1), $"AdamW: betas must lie in [0, 1); got ({beta1}, {beta2})");
        if (!(eps >= 0f))
            throw new ArgumentOutOfRangeException(nameof(eps), eps, "AdamW: eps must be non-negative");
    }
}
