using System.Text.Json.Nodes;
using RlhfSharp.Models.Config;

namespace RlhfSharp.Models.Tests;

public sealed class ModelConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cfg-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string json)
    {
        var p = Path.Combine(_dir, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(p, json);
        return p;
    }

    // The keys of the published gpt2 config.json (values of the 124M model).
    private const string Gpt2 = """
        {"activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "attn_pdrop": 0.1,
         "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256, "initializer_range": 0.02,
         "layer_norm_epsilon": 1e-05, "model_type": "gpt2", "n_ctx": 1024, "n_embd": 768, "n_head": 12,
         "n_layer": 12, "n_positions": 1024, "resid_pdrop": 0.1, "vocab_size": 50257}
        """;

    private const string Qwen2 = """
        {"architectures": ["Qwen2ForCausalLM"], "bos_token_id": 151643, "eos_token_id": 151645, "hidden_act": "silu",
         "hidden_size": 896, "intermediate_size": 4864, "max_position_embeddings": 32768, "model_type": "qwen2",
         "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
         "rope_theta": 1000000.0, "tie_word_embeddings": true, "torch_dtype": "bfloat16", "vocab_size": 151936}
        """;

    [Fact]
    public void ReadsGpt2Config()
    {
        var c = ModelConfig.Load(Write(Gpt2));
        Assert.Equal(ModelFamily.Gpt2, c.Family);
        Assert.Equal((768, 12, 12, 12, 3072, 1024, 50257), (c.HiddenSize, c.NumLayers, c.NumHeads, c.NumKeyValueHeads, c.IntermediateSize, c.MaxPositions, c.VocabSize));
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal("gelu_new", c.HiddenAct);
        Assert.Equal(64, c.HeadDim);
    }

    [Fact]
    public void ReadsQwen2ConfigWithGqaAndQkvBias()
    {
        var c = ModelConfig.Load(Write(Qwen2));
        Assert.Equal(ModelFamily.Llama, c.Family);
        Assert.Equal(2, c.NumKeyValueHeads);
        Assert.True(c.AttentionBias);
        Assert.False(c.MlpBias);
        Assert.Equal(1_000_000f, c.RopeTheta);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal(64, c.HeadDim);
    }

    [Fact]
    public void SaveThenLoadKeepsEverythingAndUnknownKeys()
    {
        var c = ModelConfig.Load(Write(Qwen2)) with { NumLabels = 1 };
        var p = Path.Combine(_dir, "out.json");
        c.Save(p);
        var back = ModelConfig.Load(p);
        Assert.Equal(c.HiddenSize, back.HiddenSize);
        Assert.Equal(c.RopeTheta, back.RopeTheta);
        Assert.Equal(1, back.NumLabels);
        var json = JsonNode.Parse(File.ReadAllText(p))!.AsObject();
        Assert.Equal("bfloat16", json["torch_dtype"]!.GetValue<string>());
        Assert.Equal("LABEL_0", json["id2label"]!["0"]!.GetValue<string>());
    }

    [Fact]
    public void MissingFieldNamesFileAndKey()
    {
        var p = Write("""{"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "num_attention_heads": 2, "intermediate_size": 16, "max_position_embeddings": 32}""");
        var ex = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(p));
        Assert.Contains(p, ex.Message);
        Assert.Contains("'num_hidden_layers'", ex.Message);
    }

    [Fact]
    public void UnsupportedArchitectureListsSupportedOnes()
    {
        var ex = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write("""{"model_type": "bert"}""")));
        Assert.Contains("'bert' is not supported", ex.Message);
        Assert.Contains("llama", ex.Message);
        Assert.Contains("gpt2", ex.Message);
    }

    [Fact]
    public void KeyGivenTwiceIsRejectedNamingIt()
    {
        var p = Write("""{"model_type": "gpt2", "n_embd": 8, "n_embd": 16}""");
        var ex = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(p));
        Assert.Contains(p, ex.Message);
        Assert.Contains("n_embd", ex.Message);
    }

    [Fact]
    public void WrongTypesAndBadShapesAreRejected()
    {
        Assert.Contains("must be an integer", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write("""{"model_type": "gpt2", "n_embd": "768"}"""))).Message);
        Assert.Contains("not valid JSON", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write("{"))).Message);
        Assert.Contains("JSON object", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write("[]"))).Message);
        var notDivisible = Qwen2.Replace("\"num_attention_heads\": 14", "\"num_attention_heads\": 13");
        Assert.Contains("not divisible", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write(notDivisible))).Message);
        var badGqa = Qwen2.Replace("\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3");
        Assert.Contains("multiple of num_key_value_heads", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write(badGqa))).Message);
        Assert.Throws<FileNotFoundException>(() => ModelConfig.Load(Path.Combine(_dir, "nope.json")));
    }

    [Theory]
    [InlineData("eos_token_id", "151936")]
    [InlineData("bos_token_id", "-1")]
    [InlineData("pad_token_id", "200000")]
    public void SpecialIdsOutsideTheVocabularyAreRejected(string key, string value)
    {
        var json = JsonNode.Parse(Qwen2)!.AsObject();
        json[key] = JsonNode.Parse(value);
        var ex = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write(json.ToJsonString())));
        Assert.Contains($"'{key}' is {value}", ex.Message);
        Assert.Contains("vocab_size 151936", ex.Message);
    }

    [Theory]
    [InlineData("rms_norm_eps", "0")]
    [InlineData("rope_theta", "-5")]
    [InlineData("num_labels", "0")]
    public void NonsenseNumbersAreRejected(string key, string value)
    {
        var json = JsonNode.Parse(Qwen2)!.AsObject();
        json[key] = JsonNode.Parse(value);
        Assert.Contains($"'{key}'", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write(json.ToJsonString()))).Message);
    }

    [Fact]
    public void InvalidUnicodeInConfigJsonNamesTheLine()
    {
        var lone = Qwen2.Replace("\"hidden_act\": \"silu\"", "\"hidden_act\": \"si\\udc00lu\"");
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(Write(lone)));
        Assert.Contains("line 1, byte ", e.Message);
        Assert.Contains("\\udc00", e.Message);
        var p = Path.Combine(_dir, "latin1.json");
        File.WriteAllBytes(p, [.. "{\"model_type\": \"gpt2\", \"x\": \""u8, 0xE9, .. "\"}"u8]);
        Assert.Contains("not valid UTF-8", Assert.Throws<ModelConfigException>(() => ModelConfig.Load(p)).Message);
    }
}
