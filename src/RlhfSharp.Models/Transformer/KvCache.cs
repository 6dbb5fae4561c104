using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// Keys and values of every layer for the tokens seen so far, preallocated to a maximum length:
/// per layer K, V [B, Hkv, maxLen, D]. A decoding step writes its new keys in place and reads the
/// first <see cref="Length"/> + T positions back as a view, so no step copies the past.
/// </summary>
public sealed class KvCache
{
    private readonly Tensor[] _keys;
    private readonly Tensor[] _values;

    /// <summary>A cache on <paramref name="device"/> (the CPU by default), where the model that fills it lives.</summary>
    public KvCache(int layers, int batch, int kvHeads, int maxLength, int headDim, Device device = default)
    {
        Batch = batch;
        MaxLength = maxLength;
        _keys = new Tensor[layers];
        _values = new Tensor[layers];
        for (int i = 0; i < layers; i++)
        {
            _keys[i] = Tensor.Zeros([batch, kvHeads, maxLength, headDim], device);
            _values[i] = Tensor.Zeros([batch, kvHeads, maxLength, headDim], device);
        }
    }

    public int Batch { get; }

    public int MaxLength { get; }

    /// <summary>Positions filled so far (the same for every layer after a full forward).</summary>
    public int Length { get; private set; }

    /// <summary>
    /// Stores the new keys/values of one layer at positions [Length, Length + T) and returns views
    /// over [0, Length + T). k, v [B, Hkv, T, D] -> ([B, Hkv, Length+T, D], [B, Hkv, Length+T, D])
    /// </summary>
    public (Tensor K, Tensor V) Append(int layer, Tensor k, Tensor v)
    {
        int t = k.Size(2);
        if (Length + t > MaxLength)
            throw new InvalidOperationException($"KV cache holds {MaxLength} positions; {Length} are used and {t} more were requested");
        _keys[layer].Narrow(2, Length, t).CopyInPlace(k);
        _values[layer].Narrow(2, Length, t).CopyInPlace(v);
        return (_keys[layer].Narrow(2, 0, Length + t), _values[layer].Narrow(2, 0, Length + t));
    }

    /// <summary>The whole preallocated K and V buffers of one layer: [B, Hkv, MaxLength, D] each.</summary>
    internal (Tensor K, Tensor V) Layer(int layer) => (_keys[layer], _values[layer]);

    /// <summary>Marks <paramref name="t"/> more positions as filled (after every layer has appended them).</summary>
    public void Advance(int t) => Length += t;

    /// <summary>Forgets every position so the cache can be reused for a new batch of the same size.</summary>
    public void Reset() => Length = 0;
}
