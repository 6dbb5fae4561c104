using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// The feed-forward block: GPT-2's c_fc → GELU → c_proj, or the Llama family's SwiGLU
/// down(act(gate(x)) ⊙ up(x)) (Shazeer 2020).
/// </summary>
public sealed class Mlp : Module
{
    private readonly string _act;

    public Mlp(ModelConfig cfg, Generator? init)
    {
        _act = cfg.HiddenAct;
        int c = cfg.HiddenSize, f = cfg.IntermediateSize;
        float projStd = 0.02f / MathF.Sqrt(2f * cfg.NumLayers);
        if (cfg.Family == ModelFamily.Gpt2)
        {
            CFc = RegisterModule("c_fc", new Linear(c, f, bias: true, init));
            CProj = RegisterModule("c_proj", new Linear(f, c, bias: true, init, projStd));
        }
        else
        {
            GateProj = RegisterModule("gate_proj", new Linear(c, f, cfg.MlpBias, init));
            UpProj = RegisterModule("up_proj", new Linear(c, f, cfg.MlpBias, init));
            DownProj = RegisterModule("down_proj", new Linear(f, c, cfg.MlpBias, init, projStd));
        }
    }

    public Linear? CFc { get; }

    public Linear? CProj { get; }

    public Linear? GateProj { get; }

    public Linear? UpProj { get; }

    public Linear? DownProj { get; }

    // x [B, T, C] -> [B, T, C]
    public Tensor Forward(Tensor x)
    {
        if (CFc is not null)
            return CProj!.Forward(Activate(CFc.Forward(x)));
        var gate = GateProj!.Forward(x);
        var up = UpProj!.Forward(x);
        // SiLU (Activate's default) gates through the fused op; the same bits as Silu().Mul(up).
        var hidden = _act is "gelu_new" or "gelu_pytorch_tanh" or "gelu" or "relu" ? Activate(gate).Mul(up) : F.SwiGlu(gate, up);
        return DownProj!.Forward(hidden);
    }

    private Tensor Activate(Tensor x) => _act switch
    {
        "gelu_new" or "gelu_pytorch_tanh" => x.Gelu(GeluApproximation.Tanh),
        "gelu" => x.Gelu(),
        "relu" => x.Relu(),
        _ => x.Silu(),
    };
}
