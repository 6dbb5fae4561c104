namespace RlhfSharp.Text;

/// <summary>The parts of a tokenizer_config.json this library uses.</summary>
internal sealed record TokenizerConfig(
    string? BosToken,
    string? EosToken,
    string? PadToken,
    string? UnkToken,
    bool? AddBosToken,
    bool? AddEosToken,
    int? ModelMaxLength);
