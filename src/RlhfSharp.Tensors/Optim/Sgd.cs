namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum, as torch.optim.SGD with dampening 0:
/// g ← g + λ·p (L2 weight decay); buf ← μ·buf + g (buf = g on the first update);
/// g ← g + μ·buf if Nesterov (Sutskever et al. 2013, in PyTorch's form) else g ← buf; p ← p − lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    private static readonly string[] MomentumBuffers = ["momentum_buffer"];

    public Sgd(IEnumerable<Tensor> parameters, float lr, float momentum = 0f, bool nesterov = false, float weightDecay = 0f)
        : this([new ParamGroup("default", parameters)], lr, momentum, nesterov, weightDecay)
    {
    }

    /// <summary>Groups without their own lr or weight decay take <paramref name="lr"/> and <paramref name="weightDecay"/>.</summary>
    public Sgd(IEnumerable<ParamGroup> groups, float lr, float momentum = 0f, bool nesterov = false, float weightDecay = 0f)
        : base(groups, lr, weightDecay)
    {
        Check(momentum, nesterov);
        Momentum = momentum;
        Nesterov = nesterov;
    }

    public float Momentum { get; private set; }

    public bool Nesterov { get; private set; }

    protected override string Kind => "Sgd";

    // The buffer is kept even without momentum so the state layout does not depend on the setting.
    protected override IReadOnlyList<string> BufferNames => MomentumBuffers;

    protected override void Update(ParamGroup group, Span<float> param, ReadOnlySpan<float> grad, float[][] buffers, long step)
    {
        float lr = group.Lr, wd = group.WeightDecay, mu = Momentum;
        var buf = buffers[0];
        for (int i = 0; i < param.Length; i++)
        {
            float g = grad[i];
            if (wd != 0f)
                g += wd * param[i];
            if (mu != 0f)
            {
                float b = step == 1 ? g : (mu * buf[i]) + g;
                buf[i] = b;
                g = Nesterov ? g + (mu * b) : b;
            }
            param[i] -= lr * g;
        }
    }

    protected override Dictionary<string, double> GetHyperparameters() => new()
    {
        ["momentum"] = Momentum,
        ["nesterov"] = Nesterov ? 1.0 : 0.0,
    };

    protected override void SetHyperparameters(IReadOnlyDictionary<string, double> values)
    {
        Check((float)values["momentum"], values["nesterov"] != 0.0);
        (Momentum, Nesterov) = ((float)values["momentum"], values["nesterov"] != 0.0);
    }

    private static void Check(float momentum, bool nesterov)
    {
        if (!(momentum >= 0f))
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "Sgd: momentum must be non-negative");
        if (nesterov && momentum == 0f)
            throw new ArgumentException("Sgd: Nesterov momentum needs a positive momentum");
    }
}
