using RlhfSharp.Models.Config;
using RlhfSharp.Models.Modules;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Models.Transformer;

/// <summary>
/// Embeddings, the stack of blocks and the final norm: GPT-2's <c>transformer</c> (wte, wpe, h, ln_f)
/// or the Llama family's <c>model</c> (embed_tokens, layers, norm). Produces hidden states; the LM
/// head and the score head sit on top.
/// </summary>
public sealed class TransformerBody : Module
{
    private readonly RopeCache? _rope;

    public TransformerBody(ModelConfig cfg, Generator? init)
    {
        Config = cfg;
        var blocks = Enumerable.Range(0, cfg.NumLayers).Select(i => new Block(cfg, i, init)).ToList();
        if (cfg.Family == ModelFamily.Gpt2)
        {
            TokenEmbedding = RegisterModule("wte", new Embedding(cfg.VocabSize, cfg.HiddenSize, init));
            PositionEmbedding = RegisterModule("wpe", new Embedding(cfg.MaxPositions, cfg.HiddenSize, init, 0.01f));
            Blocks = RegisterModule("h", new ModuleList<Block>(blocks));
            var ln = RegisterModule("ln_f", new LayerNorm(cfg.HiddenSize, cfg.NormEps));
            FinalNorm = ln.Forward;
            FinalNormModule = ln;
        }
        else
        {
            TokenEmbedding = RegisterModule("embed_tokens", new Embedding(cfg.VocabSize, cfg.HiddenSize, init));
            Blocks = RegisterModule("layers", new ModuleList<Block>(blocks));
            var norm = RegisterModule("norm", new RmsNorm(cfg.HiddenSize, cfg.NormEps));
            FinalNorm = norm.Forward;
            FinalNormModule = norm;
            _rope = new RopeCache(cfg.HeadDim, cfg.MaxPositions, cfg.RopeTheta);
        }
    }

    public ModelConfig Config { get; }

    public Embedding TokenEmbedding { get; }

    public Embedding? PositionEmbedding { get; }

    public ModuleList<Block> Blocks { get; }

    private Func<Tensor, Tensor> FinalNorm { get; }

    /// <summary>The final norm (ln_f / norm).</summary>
    public Module FinalNormModule { get; }

    /// <summary>The rotary tables (Llama family), null for GPT-2.</summary>
    internal RopeCache? Rope => _rope;

    /// <summary>Recompute each block in backward instead of keeping its activations (training only).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// ids [B, T] int32; attentionMask [B, Tpast+T] (1 = real token, 0 = padding; null = all real);
    /// cache for incremental decoding -> hidden [B, T, C]. Position ids count real tokens only, so a
    /// left-padded prompt starts at position 0 exactly as it would unpadded.
    /// </summary>
    public Tensor Forward(Tensor ids, Tensor? attentionMask = null, KvCache? cache = null)
    {
        if (ids.Rank != 2 || ids.Dtype != DType.Int32)
            throw new ArgumentException($"input ids must be an int32 tensor [B, T], got {ids.Dtype} {string.Join("x", ids.Shape)}");
        int b = ids.Size(0), t = ids.Size(1);
        int past = cache?.Length ?? 0;
        if (attentionMask is not null && (attentionMask.Rank != 2 || attentionMask.Size(0) != b || attentionMask.Size(1) != past + t))
            throw new ArgumentException($"attention mask must be [B, past+T] = [{b}, {past + t}], got [{string.Join(", ", attentionMask.Shape)}]");
        if (past + t > Config.MaxPositions)
            throw new ArgumentException($"sequence of {past + t} tokens exceeds the model's {Config.MaxPositions} positions");

        var positions = attentionMask is null ? PlainPositionIds(b, past, t) : PositionIds(attentionMask, b, past, t); // [B, T]
        var keyMask = attentionMask?.Float();
        if (ids.IsOnDevice)
        {
            // The positions (and a mask given on the host) go to the model's device once per forward.
            positions = positions.To(ids.Device);
            keyMask = keyMask?.To(ids.Device);
        }
        // Positions are below past + T; the tables grow to cover them before they may go to a device.
        _rope?.Reserve(past + t);
        var ctx = new AttentionContext(positions, keyMask, cache, _rope);
        var x = TokenEmbedding.Forward(ids);                                     // [B, T, C]
        if (PositionEmbedding is not null)
            x = x.Add(PositionEmbedding.Forward(positions));
        bool checkpoint = GradientCheckpointing && Training && GradMode.IsEnabled && cache is null;
        foreach (var block in Blocks.Items)
            x = checkpoint ? Checkpoint.Run(h => block.Forward(h, ctx), x) : block.Forward(x, ctx);
        cache?.Advance(t);
        return FinalNorm(x);
    }

    // The positions of the last unmasked forward, shared by the next one of the same shape (int32
    // tensors are never written in place, and no step scope releases them).
    private PlainPositions? _plainPositions;

    private sealed record PlainPositions(int B, int Past, int T, Tensor Ids);

    // PositionIds without a mask, reused while the batch shape and offset stay the same.
    private Tensor PlainPositionIds(int b, int past, int t)
    {
        var cached = _plainPositions;
        if (cached is not null && cached.B == b && cached.Past == past && cached.T == t)
            return cached.Ids;
        var fresh = new PlainPositions(b, past, t, PositionIds(null, b, past, t));
        _plainPositions = fresh;
        return fresh.Ids;
    }

    /// <summary>position = (number of real tokens before this one), 0 for padding. -> int32 [B, T]</summary>
    internal static Tensor PositionIds(Tensor? mask, int b, int past, int t)
    {
        var pos = new int[b * t];
        if (mask is null)
        {
            for (int r = 0; r < b; r++)
                for (int j = 0; j < t; j++)
                    pos[(r * t) + j] = past + j;
            return Tensor.FromArray(pos, b, t);
        }
        var m = mask.ToArray();
        int total = past + t;
        for (int r = 0; r < b; r++)
        {
            int count = 0;
            for (int j = 0; j < total; j++)
            {
                bool real = m[(r * total) + j] != 0;
                if (j >= past)
                    pos[(r * t) + j - past] = real ? count : 0;
                if (real)
                    count++;
            }
        }
        return Tensor.FromArray(pos, b, t);
    }
}
