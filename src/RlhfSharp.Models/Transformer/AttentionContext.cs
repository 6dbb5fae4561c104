using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// What every layer of one forward pass shares: position ids of the new tokens [B, T] (int32),
/// the key padding mask over all keys [B, Tk] (1 = attend; null = no padding), the KV cache when
/// decoding, and the rotary tables.
/// </summary>
public sealed record AttentionContext(Tensor Positions, Tensor? KeyMask, KvCache? Cache, RopeCache? Rope);
