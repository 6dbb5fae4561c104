using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Tests;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Dictionary<string, Tensor> Sample()
    {
        var g = new Generator(3);
        return new Dictionary<string, Tensor>
        {
            ["a.weight"] = g.Normal([3, 5]),
            ["a.bias"] = g.Normal([5]),
            ["ids"] = Tensor.FromArray([1, -2, 3], 3),
            ["scalar"] = Tensor.Scalar(2.5f),
        };
    }

    [Theory]
    [InlineData(SafeTensorsDType.F32)]
    [InlineData(SafeTensorsDType.BF16)]
    [InlineData(SafeTensorsDType.F16)]
    public void RoundTripKeepsNamesShapesAndValues(SafeTensorsDType floatType)
    {
        var path = Path.Combine(_dir, "m.safetensors");
        var tensors = Sample();
        SafeTensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" }, floatType);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal("pt", f.Metadata["format"]);
        foreach (var (name, t) in tensors)
        {
            var back = f.Read(name);
            Assert.Equal(t.Shape, back.Shape);
            float tol = t.Dtype == DType.Int32 || floatType == SafeTensorsDType.F32 ? 0f : floatType == SafeTensorsDType.BF16 ? 1f / 128 : 1f / 1024;
            var want = t.ToArray();
            var got = back.ToArray();
            for (int i = 0; i < want.Length; i++)
                Assert.True(Math.Abs(want[i] - got[i]) <= tol * Math.Max(1, Math.Abs(want[i])), $"{name}[{i}]: {want[i]} vs {got[i]}");
        }
    }

    [Fact]
    public void Bf16CanStayInBf16Storage()
    {
        var path = Path.Combine(_dir, "m.safetensors");
        var w = Tensor.FromArray([1f, 0.1f, -3.3f]);
        SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["w"] = w }, floatType: SafeTensorsDType.BF16);
        using var f = SafeTensorsFile.Open(path);
        var kept = f.Read("w", keepBFloat16: true);
        Assert.Equal(DType.BFloat16, kept.Dtype);
        Assert.Equal(w.ToBFloat16Bits(), kept.ToBFloat16Bits());
    }

    [Fact]
    public void WrittenFileFollowsTheSpec()
    {
        // Parse the bytes independently: u64 LE header length, JSON header, contiguous offsets, LE data.
        var path = Path.Combine(_dir, "m.safetensors");
        var w = Tensor.FromArray([1f, 2f, 3f, 4f, 5f, 6f], 2, 3);
        SafeTensorsWriter.Save(path, new Dictionary<string, Tensor> { ["w"] = w, ["b"] = Tensor.FromArray([7f]) });
        var bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        using var doc = JsonDocument.Parse(bytes.AsMemory(8, (int)n));
        var ew = doc.RootElement.GetProperty("w");
        Assert.Equal("F32", ew.GetProperty("dtype").GetString());
        Assert.Equal([2, 3], ew.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal([0L, 24L], ew.GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()));
        Assert.Equal([24L, 28L], doc.RootElement.GetProperty("b").GetProperty("data_offsets").EnumerateArray().Select(x => x.GetInt64()));
        Assert.Equal(8 + (int)n + 28, bytes.Length);
        Assert.Equal(4f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 12)));
    }

    [Fact]
    public void ShardedCheckpointRoundTrips()
    {
        var tensors = Sample();
        SafeTensorsWriter.SaveSharded(_dir, tensors, maxShardBytes: 40);
        Assert.True(File.Exists(Path.Combine(_dir, SafeTensorsCheckpoint.IndexFileName)));
        Assert.True(Directory.GetFiles(_dir, "model-*-of-*.safetensors").Length > 1);
        using var ck = SafeTensorsCheckpoint.Open(_dir);
        Assert.Equal(tensors.Keys.Order(), ck.Names.Order());
        foreach (var (name, t) in tensors)
            Assert.Equal(t.ToArray(), ck.Read(name).ToArray());
    }

    [Fact]
    public void ResavingInAnotherLayoutRemovesTheOldWeights()
    {
        var tensors = Sample();
        SafeTensorsWriter.SaveSharded(_dir, tensors, maxShardBytes: 40);
        SafeTensorsWriter.SaveSharded(_dir, tensors, maxShardBytes: 1 << 20);
        Assert.Equal(["model.safetensors"], Directory.GetFiles(_dir).Select(Path.GetFileName));
        SafeTensorsWriter.SaveSharded(_dir, tensors, maxShardBytes: 40);
        Assert.False(File.Exists(Path.Combine(_dir, "model.safetensors")));
        using var ck = SafeTensorsCheckpoint.Open(_dir);
        Assert.Equal(tensors.Count, ck.Names.Count);
    }

    // ---- malformed files -------------------------------------------------------------------

    private string WriteRaw(string headerJson, int dataBytes, ulong? headerLenOverride = null)
    {
        var path = Path.Combine(_dir, $"bad-{Guid.NewGuid():N}.safetensors");
        var header = Encoding.UTF8.GetBytes(headerJson);
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLenOverride ?? (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string OpenError(string path)
    {
        var ex = Assert.Throws<SafeTensorsFormatException>(() =>
        {
            using var f = SafeTensorsFile.Open(path);
        });
        Assert.Contains(path, ex.Message);
        return ex.Message;
    }

    [Fact]
    public void TruncatedFileIsRejected()
    {
        var path = Path.Combine(_dir, "m.safetensors");
        SafeTensorsWriter.Save(path, Sample());
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^10]);
        Assert.Contains("truncated", OpenError(path));
        File.WriteAllBytes(path, bytes[..5]);
        Assert.Contains("8-byte header length", OpenError(path));
    }

    [Fact]
    public void HeaderLengthBeyondFileIsRejectedWithoutHugeAllocation()
    {
        Assert.Contains("runs past the end", OpenError(WriteRaw("{}", 0, headerLenOverride: 1000)));
        Assert.Contains("exceeds", OpenError(WriteRaw("{}", 0, headerLenOverride: ulong.MaxValue)));
    }

    [Fact]
    public void OverlappingOffsetsAreRejected()
    {
        var msg = OpenError(WriteRaw("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12));
        Assert.Contains("overlap", msg);
        Assert.Contains("'b'", msg);
    }

    [Fact]
    public void OutOfRangeOffsetsAreRejected()
    {
        Assert.Contains("truncated", OpenError(WriteRaw("""{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 8)));
        Assert.Contains("data_offsets", OpenError(WriteRaw("""{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}""", 8)));
    }

    [Fact]
    public void GapsAndUncoveredBytesAreRejected()
    {
        Assert.Contains("contiguous", OpenError(WriteRaw("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8)));
        Assert.Contains("cover only", OpenError(WriteRaw("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 8)));
    }

    [Fact]
    public void UnknownDtypeIsRejected()
    {
        var msg = OpenError(WriteRaw("""{"a":{"dtype":"F8_E4M3X","shape":[1],"data_offsets":[0,1]}}""", 1));
        Assert.Contains("unknown dtype 'F8_E4M3X'", msg);
        Assert.Contains("'a'", msg);
    }

    [Fact]
    public void ShapeByteCountMismatchIsRejected()
    {
        var msg = OpenError(WriteRaw("""{"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,20]}}""", 20));
        Assert.Contains("needs 24 bytes", msg);
        Assert.Contains("span 20", msg);
    }

    [Fact]
    public void InvalidJsonAndWrongTypesAreRejected()
    {
        Assert.Contains("not valid JSON", OpenError(WriteRaw("{\"a\":", 0)));
        Assert.Contains("must be a JSON object", OpenError(WriteRaw("[1]", 0)));
        Assert.Contains("shape entries", OpenError(WriteRaw("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4)));
        Assert.Contains("missing string field 'dtype'", OpenError(WriteRaw("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4)));
    }

    [Fact]
    public void HeaderTextThatIsNotUnicodeIsRejectedNamingTheFile()
    {
        // A lone surrogate escape in a tensor name or dtype, and a byte that is not UTF-8 in a name.
        Assert.Contains("not valid Unicode", OpenError(WriteRaw("""{"a\ud800":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4)));
        Assert.Contains("not valid Unicode", OpenError(WriteRaw("""{"a":{"dtype":"F3\udc00","shape":[1],"data_offsets":[0,4]}}""", 4)));
        var path = WriteRaw("""{"a?":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4);
        var bytes = File.ReadAllBytes(path);
        bytes[8 + 3] = 0xFF; // the '?' after "a"
        File.WriteAllBytes(path, bytes);
        Assert.Contains("0xFF is not valid UTF-8", OpenError(path));
    }

    [Fact]
    public void AnIndexThatIsNotUnicodeIsRejectedNamingTheFile()
    {
        var dir = Path.Combine(_dir, "sharded");
        Directory.CreateDirectory(dir);
        var index = Path.Combine(dir, SafeTensorsCheckpoint.IndexFileName);
        File.WriteAllText(index, """{"weight_map": {"w\ud800": "model-00001-of-00001.safetensors"}}""");

        var ex = Assert.Throws<SafeTensorsFormatException>(() =>
        {
            using var ck = SafeTensorsCheckpoint.Open(dir);
        });

        Assert.Contains(index, ex.Message);
        Assert.Contains("surrogate", ex.Message);
    }
}
