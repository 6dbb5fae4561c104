using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Cli.Tests;

public sealed class ConfigDocsTests
{
    [Fact]
    public void DescribesEveryKeyWithTypeDefaultAndDescription()
    {
        IReadOnlyList<ConfigKeyInfo> rows = ConfigDocs.Describe<DemoConfig>();
        Dictionary<string, ConfigKeyInfo> byKey = rows.ToDictionary(r => r.Key);

        Assert.Equal("learning_rate", rows[0].Key);
        Assert.Equal(("float", "0.0001", "Peak learning rate."),
            (byKey["learning_rate"].Type, byKey["learning_rate"].Default, byKey["learning_rate"].Description));
        Assert.Equal(("int", "16"), (byKey["batch_size"].Type, byKey["batch_size"].Default));
        Assert.Equal(("long", "1000000"), (byKey["total_tokens"].Type, byKey["total_tokens"].Default));
        Assert.Equal(("string?", "null"), (byKey["model"].Type, byKey["model"].Default));
        Assert.Equal(("string", "\"run\""), (byKey["run_name"].Type, byKey["run_name"].Default));
        Assert.Equal(("constant|linear|cosine_with_restarts", "linear"),
            (byKey["lr_scheduler"].Type, byKey["lr_scheduler"].Default));
        Assert.Equal("constant|linear|cosine_with_restarts|null", byKey["warmup_scheduler"].Type);
        Assert.Equal(("int?", "null"), (byKey["seed"].Type, byKey["seed"].Default));
        Assert.Equal(("list<float>", "[1]"), (byKey["loss_weights"].Type, byKey["loss_weights"].Default));
        Assert.Equal(("section?", "null"), (byKey["lora"].Type, byKey["lora"].Default));
        Assert.True(byKey["lora"].IsSection);
        Assert.Equal(("int", "8", "LoRA rank r."),
            (byKey["lora.rank"].Type, byKey["lora.rank"].Default, byKey["lora.rank"].Description));
        Assert.Equal("[\"q_proj\", \"v_proj\"]", byKey["lora.target_modules"].Default);
        Assert.Equal(("double", "0.9"), (byKey["optimizer.beta1"].Type, byKey["optimizer.beta1"].Default));
        Assert.Equal(typeof(bool), byKey["optimizer.fused"].ValueType);
        Assert.Equal(21, rows.Count);
    }

    [Fact]
    public void FormatsAnAlignedTable()
    {
        string table = ConfigDocs.FormatTable(ConfigDocs.Describe<OptimizerSection>());
        Assert.Equal("""
            key    type    default  description
            -----  ------  -------  -----------
            beta1  double  0.9
            fused  bool    false

            """, table);
    }
}
