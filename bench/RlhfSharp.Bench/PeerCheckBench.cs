using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;
using RlhfSharp.Tensors.Autograd;

namespace RlhfSharp.Bench;

/// <summary>
/// <c>peer-check</c>: proof that the PyTorch peer (bench/peers/torch_lm.py) computes what our
/// model computes. Our random weights and a batch of token ids go to a folder (header.json naming
/// each tensor's shape and offset, weights.bin with the float32 values); the peer loads them by
/// name and writes its logits and next-token loss; the largest logit difference and the loss
/// difference must stay within the tolerance, and so must the difference between the peer's
/// KV-cache decoding (its generate path) and its full forward. One JSON line per case; exit code 1 when any fails.
/// </summary>
public static class PeerCheckBench
{
    private const float MatrixStd = 0.08f;

    public const string Usage = "peer-check [--cases gpt2-6m,llama-6m,pipeline] [--batch 2] [--seq 32] [--tolerance 1e-4]";

    public static int Run(BenchArgs args)
    {
        if (args.Help)
        {
            Console.Error.WriteLine(Usage);
            return 0;
        }
        var cases = LmCase.Parse(args.String("cases"));
        int batch = args.Ints("batch")?[0] ?? 2;
        int seq = args.Ints("seq")?[0] ?? 32;
        string? tolText = args.String("tolerance");
        args.RejectUnknown();
        double tolerance = 1e-4;
        if (tolText is not null && (!double.TryParse(tolText, NumberStyles.Float, CultureInfo.InvariantCulture, out tolerance) || !(tolerance > 0)))
            throw new BenchUsageException($"--tolerance expects a positive number such as 1e-4, got '{tolText}'");
        TorchPeer.EnsureAvailable("peer-check");
        bool allPass = true;
        foreach (var c in cases)
        {
            if (seq > c.Config.MaxPositions)
                throw new BenchUsageException($"--seq {seq} is longer than case {c.Name}'s {c.Config.MaxPositions} positions");
            var line = Check(c, batch, seq, tolerance, out bool pass);
            allPass &= pass;
            line.WriteLine();
        }
        return allPass ? 0 : 1;
    }

    private static JsonLine Check(LmCase c, int batch, int seq, double tolerance, out bool pass)
    {
        var cfg = c.Config;
        var model = new CausalLM(cfg, new Generator(7));
        // Biases and norm weights start at 0 and 1, and with the 0.02 init attention is nearly
        // uniform, which would hide a wrong position encoding or head grouping: the check draws
        // every weight afresh, matrices large enough for peaked attention.
        var g = new Generator(8);
        foreach (var (_, p) in model.NamedParameters())
        {
            bool ones = p.Value.ToArray().All(v => v == 1);
            p.Assign(p.Value.Rank == 1 ? g.Normal(p.Value.Shape, ones ? 1f : 0f, 0.1f) : g.Normal(p.Value.Shape, 0f, MatrixStd));
        }
        model.Eval();
        var ids = new Generator(9).Uniform([batch, seq], 0, cfg.VocabSize - 1).ToInt32();
        float[] ours;
        double ourLoss;
        using (GradMode.NoGrad())
        {
            var logits = model.Forward(ids);
            ours = logits.ToArray();
            ourLoss = F.CrossEntropy(logits.Narrow(1, 0, seq - 1).Reshape(-1, cfg.VocabSize), ids.Narrow(1, 1, seq - 1).Contiguous().Reshape(-1)).ItemDouble();
        }

        var dir = Directory.CreateTempSubdirectory("peer-check-");
        try
        {
            Write(dir.FullName, model, ids);
            string script = Path.Combine(TorchPeer.PeersDirectory(), "torch_lm.py");
            var lines = TorchPeer.RunScript([script, "--mode", "check", "--weights", dir.FullName, "--threads", "1"], 1);
            if (lines.Count != 1 || !lines[0].TryGetProperty("loss", out var lossEl) || lossEl.ValueKind != JsonValueKind.Number)
                throw new PeerOutputException("torch_lm.py --mode check: expected one JSON line with a numeric \"loss\"");
            double peerLoss = lossEl.GetDouble();
            if (!lines[0].TryGetProperty("cached_decode_max_diff", out var cachedEl) || cachedEl.ValueKind != JsonValueKind.Number)
                throw new PeerOutputException("torch_lm.py --mode check: the JSON line has no numeric \"cached_decode_max_diff\"");
            double cachedDiff = cachedEl.GetDouble();
            var bytes = File.ReadAllBytes(Path.Combine(dir.FullName, "logits.bin"));
            if (bytes.Length != ours.Length * sizeof(float))
                throw new PeerOutputException($"torch_lm.py --mode check wrote {bytes.Length / sizeof(float)} logits, expected {ours.Length}");
            var theirs = new float[ours.Length];
            Buffer.BlockCopy(bytes, 0, theirs, 0, bytes.Length);
            double maxDiff = 0;
            for (int i = 0; i < ours.Length; i++)
                maxDiff = Math.Max(maxDiff, Math.Abs(ours[i] - theirs[i]));
            double maxLogit = ours.Max(v => Math.Abs(v));
            double lossDiff = Math.Abs(ourLoss - peerLoss);
            pass = maxDiff <= tolerance && lossDiff <= tolerance && cachedDiff <= tolerance;
            return new JsonLine()
                .Add("case", "peer_check")
                .Add("model", c.Name)
                .Add("family", cfg.ModelType)
                .Add("params", model.ParameterCount())
                .Add("batch", batch)
                .Add("seq", seq)
                .Add("max_abs_logit", maxLogit, 4)
                .Add("max_abs_logit_diff", maxDiff, 9)
                .Add("ours_loss", ourLoss, 6)
                .Add("torch_loss", peerLoss, 6)
                .Add("loss_diff", lossDiff, 9)
                .Add("torch_cached_decode_max_diff", cachedDiff, 9)
                .Add("tolerance", tolerance, 9)
                .Add("pass", pass);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    // header.json + weights.bin in torch_lm.py's check format; the ids go as float32 (exact below 2^24).
    private static void Write(string dir, CausalLM model, Tensor ids)
    {
        var cfg = model.Config;
        var tensors = new JsonArray();
        using var bin = File.Create(Path.Combine(dir, "weights.bin"));
        long offset = 0;
        JsonObject Put(float[] values, int[] shape)
        {
            var entry = new JsonObject { ["shape"] = new JsonArray([.. shape.Select(s => (JsonNode)s)]), ["offset"] = offset };
            var bytes = new byte[values.Length * sizeof(float)];
            Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
            bin.Write(bytes);
            offset += values.Length;
            return entry;
        }
        foreach (var (name, p) in model.NamedParameters())
        {
            var entry = Put(p.Value.ToArray(), p.Value.Shape);
            entry["name"] = name;
            tensors.Add(entry);
        }
        var idsEntry = Put(ids.Float().ToArray(), ids.Shape);
        var header = new JsonObject
        {
            ["config"] = new JsonObject
            {
                ["family"] = cfg.Family == ModelFamily.Gpt2 ? "gpt2" : "llama",
                ["vocab"] = cfg.VocabSize,
                ["hidden"] = cfg.HiddenSize,
                ["layers"] = cfg.NumLayers,
                ["heads"] = cfg.NumHeads,
                ["kv_heads"] = cfg.NumKeyValueHeads,
                ["intermediate"] = cfg.IntermediateSize,
                ["max_positions"] = cfg.MaxPositions,
                ["norm_eps"] = cfg.NormEps,
                ["rope_theta"] = cfg.RopeTheta,
                ["tie"] = cfg.TieWordEmbeddings,
                ["act"] = cfg.HiddenAct,
            },
            ["tensors"] = tensors,
            ["ids"] = idsEntry,
        };
        File.WriteAllText(Path.Combine(dir, "header.json"), header.ToJsonString());
    }
}
