using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace RlhfSharp.Tensors.Optim;

/// <summary>
/// The binary form of <see cref="OptimizerState"/>, all little-endian:
/// magic "RSOPTIM\0", int32 version (1), string kind, int64 step,
/// int32 n × (string name, float64 value) hyperparameters,
/// int32 n × (string name, float32 lr, float32 initial lr, float32 weight decay, int32 parameter count) groups,
/// int32 n × (int32 index, string name, int32 rank, int32[rank] shape, int64 step,
/// int32 n × (string name, int32 length, float32[length])) parameters.
/// Strings are an int32 byte count followed by UTF-8.
/// </summary>
internal static class OptimizerStateFormat
{
    public const int Version = 1;
    private static readonly byte[] Magic = "RSOPTIM\0"u8.ToArray();
    private const int MaxString = 1 << 16;
    private const int MaxCount = 1 << 24;
    private const int MaxRank = 32;

    public static void Write(OptimizerState state, Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        WriteString(w, state.Kind);
        w.Write(state.Step);
        var hyper = state.Hyperparameters.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        w.Write(hyper.Count);
        foreach (var (name, value) in hyper)
        {
            WriteString(w, name);
            w.Write(value);
        }
        w.Write(state.Groups.Count);
        foreach (var g in state.Groups)
        {
            WriteString(w, g.Name);
            w.Write(g.Lr);
            w.Write(g.InitialLr);
            w.Write(g.WeightDecay);
            w.Write(g.ParamCount);
        }
        w.Write(state.Params.Count);
        foreach (var p in state.Params)
        {
            w.Write(p.Index);
            WriteString(w, p.Name);
            w.Write(p.Shape.Length);
            foreach (var d in p.Shape)
                w.Write(d);
            w.Write(p.Step);
            var buffers = p.Buffers.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
            w.Write(buffers.Count);
            foreach (var (name, values) in buffers)
            {
                WriteString(w, name);
                w.Write(values.Length);
                WriteFloats(w, values);
            }
        }
    }

    public static OptimizerState Read(Stream stream)
    {
        var r = new Reader(stream);
        var magic = new byte[Magic.Length];
        r.Bytes(magic, "the magic number");
        if (!magic.AsSpan().SequenceEqual(Magic))
            throw r.Bad($"bad magic number {Convert.ToHexString(magic)}; expected {Convert.ToHexString(Magic)} (\"RSOPTIM\"). This is not an optimizer state file");
        int version = r.Int32("the version");
        if (version != Version)
            throw r.Bad($"unsupported version {version}; this build reads version {Version}");
        var state = new OptimizerState { Kind = r.String("the optimizer kind"), Step = r.Int64("the step count") };
        int hyperCount = r.Count("the hyperparameter count");
        for (int i = 0; i < hyperCount; i++)
        {
            var name = r.String($"hyperparameter {i}'s name");
            if (!state.Hyperparameters.TryAdd(name, r.Double($"hyperparameter '{name}'")))
                throw r.Bad($"hyperparameter '{name}' appears twice");
        }
        int groupCount = r.Count("the parameter group count");
        for (int i = 0; i < groupCount; i++)
        {
            var g = new GroupState { Name = r.String($"group {i}'s name") };
            g.Lr = r.Single($"group '{g.Name}' lr");
            g.InitialLr = r.Single($"group '{g.Name}' initial lr");
            g.WeightDecay = r.Single($"group '{g.Name}' weight decay");
            g.ParamCount = r.Count($"group '{g.Name}' parameter count");
            state.Groups.Add(g);
        }
        int paramCount = r.Count("the parameter count");
        for (int i = 0; i < paramCount; i++)
            state.Params.Add(ReadParam(r, i));
        return state;
    }

    private static ParamState ReadParam(Reader r, int i)
    {
        var p = new ParamState { Index = r.Int32($"parameter {i}'s index") };
        if (p.Index != i)
            throw r.Bad($"parameter {i} is stored with index {p.Index}; parameters must be stored in order");
        p.Name = r.String($"parameter {i}'s name");
        int rank = r.Int32($"parameter '{p.Name}' rank");
        if (rank is < 0 or > MaxRank)
            throw r.Bad($"parameter '{p.Name}' has rank {rank}; expected 0 to {MaxRank}");
        p.Shape = new int[rank];
        long numel = 1;
        for (int d = 0; d < rank; d++)
        {
            p.Shape[d] = r.Count($"parameter '{p.Name}' shape");
            numel *= p.Shape[d];
        }
        if (numel > Array.MaxLength)
            throw r.Bad($"parameter '{p.Name}' has shape {ShapeUtil.Format(p.Shape)} with more elements than an array can hold");
        p.Step = r.Int64($"parameter '{p.Name}' step count");
        int bufferCount = r.Count($"parameter '{p.Name}' buffer count");
        for (int b = 0; b < bufferCount; b++)
        {
            var name = r.String($"parameter '{p.Name}' buffer {b}'s name");
            int length = r.Count($"parameter '{p.Name}' buffer '{name}' length");
            if (length != numel)
                throw r.Bad($"parameter '{p.Name}' buffer '{name}' has {length} values but the shape {ShapeUtil.Format(p.Shape)} has {numel} elements");
            var values = r.Floats(length, $"parameter '{p.Name}' buffer '{name}'");
            if (!p.Buffers.TryAdd(name, values))
                throw r.Bad($"parameter '{p.Name}' has buffer '{name}' twice");
        }
        return p;
    }

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write(bytes.Length);
        w.Write(bytes);
    }

    private static void WriteFloats(BinaryWriter w, float[] values)
    {
        if (BitConverter.IsLittleEndian)
        {
            w.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            return;
        }
        foreach (var v in values)
            w.Write(v);
    }

    /// <summary>Reads fields, turning a short stream or an absurd value into an InvalidDataException naming the field.</summary>
    private sealed class Reader(Stream stream)
    {
        private readonly byte[] _buf = new byte[8];
        private readonly string _source = stream is FileStream fs ? $" '{fs.Name}'" : "";

        public InvalidDataException Bad(string what) => new($"optimizer state{_source}: {what}");

        public void Bytes(Span<byte> dst, string what)
        {
            try
            {
                stream.ReadExactly(dst);
            }
            catch (EndOfStreamException)
            {
                throw Bad($"truncated: the data ended while reading {what}");
            }
        }

        public int Int32(string what)
        {
            Bytes(_buf.AsSpan(0, 4), what);
            return BinaryPrimitives.ReadInt32LittleEndian(_buf);
        }

        public long Int64(string what)
        {
            Bytes(_buf.AsSpan(0, 8), what);
            return BinaryPrimitives.ReadInt64LittleEndian(_buf);
        }

        public double Double(string what)
        {
            Bytes(_buf.AsSpan(0, 8), what);
            return BinaryPrimitives.ReadDoubleLittleEndian(_buf);
        }

        public float Single(string what)
        {
            Bytes(_buf.AsSpan(0, 4), what);
            return BinaryPrimitives.ReadSingleLittleEndian(_buf);
        }

        public int Count(string what)
        {
            int n = Int32(what);
            if (n is < 0 or > MaxCount)
                throw Bad($"{what} is {n}; expected 0 to {MaxCount}. The data is corrupt");
            return n;
        }

        public string String(string what)
        {
            int n = Int32(what);
            if (n is < 0 or > MaxString)
                throw Bad($"{what} has length {n}; expected 0 to {MaxString}. The data is corrupt");
            var bytes = new byte[n];
            Bytes(bytes, what);
            return Encoding.UTF8.GetString(bytes);
        }

        public float[] Floats(int n, string what)
        {
            if (stream.CanSeek && stream.Length - stream.Position < (long)n * sizeof(float))
                throw Bad($"truncated: {what} needs {(long)n * sizeof(float)} bytes but only {stream.Length - stream.Position} remain");
            var values = new float[n];
            var bytes = MemoryMarshal.AsBytes(values.AsSpan());
            Bytes(bytes, what);
            if (!BitConverter.IsLittleEndian)
            {
                for (int i = 0; i < n; i++)
                    values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(i * 4, 4));
            }
            return values;
        }
    }
}
