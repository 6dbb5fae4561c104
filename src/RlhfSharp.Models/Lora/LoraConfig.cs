namespace RlhfSharp.Models.Lora;

/// <summary>
/// Which linear layers get adapters and how large they are; saved as PEFT's adapter_config.json.
/// Target names match the last part of a module's name (q_proj, v_proj, c_attn…).
/// </summary>
public sealed record LoraConfig
{
    public int Rank { get; init; } = 8;

    public float Alpha { get; init; } = 16f;

    public float Dropout { get; init; }

    public IReadOnlyList<string> TargetModules { get; init; } = ["q_proj", "v_proj"];
}
