using System.Buffers.Binary;
using RlhfSharp.Models.SafeTensors;
using RlhfSharp.Models.Transformer;
using RlhfSharp.Tensors;

namespace RlhfSharp.Models.Tests;

/// <summary>
/// NaN and infinite weights never reach a model file, and a file that holds them is not loaded:
/// both fail with a typed error naming the file and the tensor.
/// </summary>
public sealed class NonFiniteWeightsTests : IDisposable
{
    private const string Broken = "model.layers.1.mlp.up_proj.weight";
    private readonly string _dir = Directory.CreateTempSubdirectory("nonfinite-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static CausalLM Model() => new(TinyModels.Llama(), new Generator(1));

    private static void Poison(CausalLM model, string name, float value)
    {
        var p = model.NamedParameters().Single(x => x.Name == name).Param;
        var values = p.Value.ToArray();
        values[5] = value;
        p.Assign(Tensor.FromArray(values, p.Value.Shape));
    }

    private static Dictionary<string, byte[]> Files(string dir) =>
        Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes);

    [Theory]
    [InlineData(float.NaN, 1L << 40)] // one file
    [InlineData(float.PositiveInfinity, 4000)] // shards; the broken tensor is in a late one
    public void SavingNonFiniteWeightsRefusesAndKeepsTheFilesAlreadyThere(float bad, long shardBytes)
    {
        var model = Model();
        var dir = Path.Combine(_dir, "model");
        PretrainedIO.Save(model, dir, maxShardBytes: shardBytes);
        var before = Files(dir);

        Poison(model, Broken, bad);
        var e = Assert.Throws<NonFiniteWeightsException>(() => PretrainedIO.Save(model, dir, maxShardBytes: shardBytes));
        Assert.Equal(Broken, e.Tensor);
        Assert.Equal(5, e.Element);
        Assert.Contains(Broken, e.Message);
        Assert.IsAssignableFrom<IUserError>(e);

        var after = Files(dir);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before)
            Assert.Equal(bytes, after[name]);
        Assert.NotNull(PretrainedIO.LoadCausalLM(dir)); // the earlier model still loads
    }

    [Theory]
    [InlineData(float.NaN, false)]
    [InlineData(float.NegativeInfinity, false)]
    [InlineData(float.PositiveInfinity, true)] // kept as bf16 storage
    public void LoadingAFileWithNonFiniteWeightsFailsNamingFileAndTensor(float bad, bool bf16)
    {
        var dir = Path.Combine(_dir, "model");
        PretrainedIO.Save(Model(), dir, bf16 ? SafeTensorsDType.BF16 : SafeTensorsDType.F32);
        var file = Path.Combine(dir, "model.safetensors");
        WriteElement(file, Broken, 7, bad, bf16);

        var e = Assert.Throws<NonFiniteWeightsException>(() => PretrainedIO.LoadCausalLM(dir, bf16Storage: bf16));
        Assert.Equal(file, e.Path);
        Assert.Equal(Broken, e.Tensor);
        Assert.Equal(7, e.Element);
        Assert.Contains(file, e.Message);
        Assert.Contains(Broken, e.Message);
    }

    // Overwrites one element of a tensor in a safetensors file (as a damaged or diverged file would hold it).
    private static void WriteElement(string file, string tensor, int element, float value, bool bf16)
    {
        long begin;
        using (var st = SafeTensorsFile.Open(file))
            begin = st.Entry(tensor).Begin;
        using var fs = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        var len = new byte[8];
        fs.ReadExactly(len);
        long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(len);
        var bytes = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        if (bf16)
        {
            fs.Position = dataStart + begin + (2L * element);
            fs.Write(bytes, 2, 2); // the high half of the float is its bf16 pattern
        }
        else
        {
            fs.Position = dataStart + begin + (4L * element);
            fs.Write(bytes);
        }
    }
}
