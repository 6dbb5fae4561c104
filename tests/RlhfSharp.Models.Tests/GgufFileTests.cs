using System.Buffers.Binary;
using System.Text;
using RlhfSharp.Models.Gguf;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Tests;

/// <summary>The GGUF writer and reader: what is written reads back, dtype conversions, and malformed files give typed errors.</summary>
public sealed class GgufFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gguf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string WriteSample(out float[] values)
    {
        var w = new GgufWriter();
        w.AddString("general.architecture", "llama");
        w.AddString("general.name", "naïve ✓");
        w.SetAlignment(64);
        w.AddUInt32("llama.block_count", 3);
        w.AddFloat32("llama.rope.freq_base", 12345.5f);
        w.AddBool("tokenizer.ggml.add_bos_token", true);
        w.AddStrings("tokenizer.ggml.tokens", ["a", "Ġb", "<|im_end|>"]);
        w.AddInt32s("tokenizer.ggml.token_type", [1, 1, 3]);
        values = [1f, -2.5f, 3.1415927f, 65504f, 1e-8f, -0f, 0.1f, 7f, 1234.5678f, -0.33333334f, 2f, 3f];
        w.AddTensor("a.weight", [3, 4], values, GgmlType.F32);
        w.AddTensor("b.weight", [2, 6], values, GgmlType.F16);
        w.AddTensor("c.weight", [12], values, GgmlType.BF16);
        w.AddTensor("d.weight", [1, 1, 3], values[..3], GgmlType.F32);
        var path = Path.Combine(_dir, "sample.gguf");
        w.Write(path);
        return path;
    }

    [Fact]
    public void MetadataAndTensorsReadBackAsWritten()
    {
        var path = WriteSample(out var values);
        var f = GgufFile.Open(path);
        Assert.Equal(3u, f.Version);
        Assert.Equal(64, f.Alignment);
        Assert.Equal("llama", f.Get<string>("general.architecture"));
        Assert.Equal("naïve ✓", f.Get<string>("general.name"));
        Assert.Equal(3u, f.Get<uint>("llama.block_count"));
        Assert.Equal(12345.5f, f.Get<float>("llama.rope.freq_base"));
        Assert.True(f.Get<bool>("tokenizer.ggml.add_bos_token"));
        Assert.Equal(["a", "Ġb", "<|im_end|>"], f.Get<GgufArray>("tokenizer.ggml.tokens").Items.Cast<string>());
        Assert.Equal([1, 1, 3], f.Get<GgufArray>("tokenizer.ggml.token_type").Items.Cast<int>());
        Assert.Equal(["a.weight", "b.weight", "c.weight", "d.weight"], f.Tensors.Select(t => t.Name));
        Assert.Equal([3, 4], f.Tensor("a.weight").Shape);
        Assert.Equal([1, 1, 3], f.Tensor("d.weight").Shape);
        Assert.All(f.Tensors, t => Assert.Equal(0, t.Offset % 64));
        Assert.Equal(0, f.DataStart % 64);
        Assert.Equal(values, f.ReadFloats("a.weight"));
        Assert.Equal(values[..3], f.ReadFloats("d.weight"));
    }

    [Fact]
    public void HalfAndBFloat16TensorsHoldTheRoundedValues()
    {
        var path = WriteSample(out var values);
        var f = GgufFile.Open(path);
        Assert.Equal(values.Select(v => (float)(Half)v), f.ReadFloats("b.weight"));
        Assert.Equal(values.Select(v => BFloat16.ToFloat(BFloat16.FromFloat(v))), f.ReadFloats("c.weight"));
        // Hand-checked values: 0.1 is 0x2E66 in f16 and 0x3DCD in bf16 (round to nearest even).
        Assert.Equal(BitConverter.UInt16BitsToHalf(0x2E66), (Half)f.ReadFloats("b.weight")[6]);
        Assert.Equal(BFloat16.ToFloat(0x3DCD), f.ReadFloats("c.weight")[6]);
        Assert.Equal(GgmlType.F16, f.Tensor("b.weight").Type);
        Assert.Equal(GgmlType.BF16, f.Tensor("c.weight").Type);
    }

    [Fact]
    public void HeaderBytesFollowTheSpec()
    {
        var path = WriteSample(out _);
        var bytes = File.ReadAllBytes(path);
        Assert.Equal("GGUF", Encoding.ASCII.GetString(bytes, 0, 4));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(4ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(8)));   // tensors
        Assert.Equal(8ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(16)));  // metadata pairs
        // First key: length-prefixed "general.architecture", then type 8 (string).
        Assert.Equal(20ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal("general.architecture", Encoding.ASCII.GetString(bytes, 32, 20));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(52)));
    }

    [Fact]
    public void TensorDimsAreStoredInnermostFirst()
    {
        var path = WriteSample(out _);
        var bytes = File.ReadAllBytes(path);
        // "a.weight" [3, 4] is stored as n_dims 2, ne = {4, 3}.
        int at = IndexOf(bytes, Encoding.ASCII.GetBytes("a.weight")) + 8;
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at)));
        Assert.Equal(4ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 4)));
        Assert.Equal(3ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 12)));
    }

    [Fact]
    public void WriterRefusesRepeatedKeysNamesAndWrongSizes()
    {
        var w = new GgufWriter();
        w.AddUInt32("k", 1);
        Assert.Throws<ArgumentException>(() => w.AddUInt32("k", 2));
        w.AddTensor("t", [2], [1f, 2f], GgmlType.F32);
        Assert.Throws<ArgumentException>(() => w.AddTensor("t", [2], [1f, 2f], GgmlType.F32));
        Assert.Throws<ArgumentException>(() => w.AddTensor("u", [3], [1f, 2f], GgmlType.F32));
        Assert.Throws<ArgumentOutOfRangeException>(() => w.SetAlignment(24));
    }

    [Fact]
    public void EveryTruncationIsATypedErrorNamingTheFile()
    {
        var path = WriteSample(out _);
        var bytes = File.ReadAllBytes(path);
        var cut = Path.Combine(_dir, "cut.gguf");
        // Every prefix of the header, and cuts inside the tensor data.
        var f = GgufFile.Open(path);
        var lastEnd = (int)(f.DataStart + f.Tensors[^1].Offset + (f.Tensors[^1].Numel * 4));
        var lengths = Enumerable.Range(0, (int)f.DataStart).Concat([(int)f.DataStart + 10, lastEnd - 1]);
        foreach (int n in lengths)
        {
            File.WriteAllBytes(cut, bytes[..n]);
            var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(cut));
            Assert.Contains(cut, e.Message);
            Assert.IsAssignableFrom<IUserError>(e);
        }
    }

    [Theory]
    [InlineData(0, "not a GGUF file")]
    [InlineData(4, "version")]
    [InlineData(8, "tensor count")]
    public void CorruptHeaderFieldsAreNamed(int offset, string expected)
    {
        var path = WriteSample(out _);
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), 0xFFFF_FFF0);
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<GgufFormatException>(() => GgufFile.Open(path));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void UnknownValueTypeQuantisedTensorAndHugeStringAreRefused()
    {
        var path = WriteSample(out _);
        var bytes = File.ReadAllBytes(path);

        var badType = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badType.AsSpan(52), 99); // the first value's type
        File.WriteAllBytes(path, badType);
        Assert.Contains("unknown metadata value type 99", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);

        var quantised = (byte[])bytes.Clone();
        int at = IndexOf(quantised, Encoding.ASCII.GetBytes("a.weight")) + 8 + 4 + 16; // after n_dims and two dims
        BinaryPrimitives.WriteUInt32LittleEndian(quantised.AsSpan(at), 2); // Q4_0
        File.WriteAllBytes(path, quantised);
        Assert.Contains("ggml type 2", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);

        var longString = (byte[])bytes.Clone();
        BinaryPrimitives.WriteUInt64LittleEndian(longString.AsSpan(24), ulong.MaxValue / 2);
        File.WriteAllBytes(path, longString);
        Assert.Contains("runs past the end", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);
    }

    [Fact]
    public void MisalignedTensorOffsetAndMissingKeysAreRefused()
    {
        var path = WriteSample(out _);
        var bytes = File.ReadAllBytes(path);
        int at = IndexOf(bytes, Encoding.ASCII.GetBytes("b.weight")) + 8 + 4 + 16 + 4; // its offset
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), 3);
        File.WriteAllBytes(path, bytes);
        Assert.Contains("not a multiple of the alignment", Assert.Throws<GgufFormatException>(() => GgufFile.Open(path)).Message);

        var good = GgufFile.Open(WriteSample(out _));
        Assert.Contains("'llama.nothing' is missing", Assert.Throws<GgufFormatException>(() => good.Get<uint>("llama.nothing")).Message);
        Assert.Contains("expected UInt32", Assert.Throws<GgufFormatException>(() => good.Get<uint>("general.name")).Message);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
                return i;
        }
        throw new InvalidOperationException("not found");
    }
}
