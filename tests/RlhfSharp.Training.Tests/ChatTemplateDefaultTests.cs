using System.Text.Json.Nodes;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.BuiltinTask;
using RlhfSharp.Training.Foundation;
using RlhfSharp.Training.Trainers;

namespace RlhfSharp.Training.Tests;

/// <summary>Trainers render conversations with the model's own chat template when its tokenizer folder has one.</summary>
public sealed class ChatTemplateDefaultTests : IDisposable
{
    // A format no built-in template writes, with the assistant turns marked as transformers' {% generation %} does.
    private const string OwnTemplate =
        "{% for m in messages %}[{{ m.role | upper }}] {% if m.role == 'assistant' %}{% generation %}{{ m.content }}{{ eos_token }}{% endgeneration %}"
        + "{% else %}{{ m.content }}{% endif %}{{ '\\n' }}{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}";

    private readonly string _dir = Directory.CreateTempSubdirectory("chat-template-default-").FullName;

    public ChatTemplateDefaultTests()
    {
        BuiltinTaskGenerator.Write(DataDir, new BuiltinTaskOptions { TrainPrompts = 24, EvalPrompts = 4, PreferencePairs = 8, TokenizerVocabSize = 300 });
        Directory.CreateDirectory(OwnTokenizer);
        foreach (var file in Directory.GetFiles(BuiltinTokenizer))
            File.Copy(file, Path.Combine(OwnTokenizer, Path.GetFileName(file)));
        string configPath = Path.Combine(OwnTokenizer, "tokenizer_config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["chat_template"] = OwnTemplate;
        File.WriteAllText(configPath, config.ToJsonString());
    }

    private string DataDir => Path.Combine(_dir, "data");

    private string BuiltinTokenizer => Path.Combine(DataDir, "tokenizer");

    private string OwnTokenizer => Path.Combine(_dir, "own-tokenizer");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private SftConfig Config(string tokenizer, string? template = null)
    {
        var cfg = new SftConfig
        {
            Data = DataDir,
            Tokenizer = tokenizer,
            ModelInit = new ModelInitSection { HiddenSize = 16, NumLayers = 1, NumHeads = 2, NumKvHeads = 1, IntermediateSize = 32, MaxPositions = 96 },
            MaxSteps = 2,
            WarmupSteps = 1,
            BatchSize = 4,
            EvalEvery = 100,
            SaveEvery = 100,
            Threads = 1,
        };
        if (template is not null) cfg.ChatTemplate = template;
        return cfg;
    }

    [Fact]
    public void The_default_is_the_tokenizers_own_template_and_a_named_one_still_wins()
    {
        ChatMessage[] chat = [ChatMessage.User("What is 2 + 2?"), ChatMessage.Assistant("4")];

        var own = TrainerInputs.Resolve(Config(OwnTokenizer)).Template;
        var named = TrainerInputs.Resolve(Config(OwnTokenizer, "chatml")).Template;
        var none = TrainerInputs.Resolve(Config(BuiltinTokenizer)).Template;

        var rendered = own.Render(chat);
        Assert.Equal("[USER] What is 2 + 2?\n[ASSISTANT] 4<|im_end|>\n", rendered.Text);
        Assert.Equal("4<|im_end|>", rendered.Text.Substring(rendered.AssistantSpans[0].Start, rendered.AssistantSpans[0].Length));
        Assert.Same(ChatTemplate.ChatMl, named);
        Assert.Same(ChatTemplate.ChatMl, none);
    }

    [Fact]
    public void Requiring_the_tokenizers_template_where_there_is_none_names_the_key()
    {
        var e = Assert.Throws<TrainingSetupException>(() => TrainerInputs.Resolve(Config(BuiltinTokenizer, "tokenizer")));

        Assert.Contains("config key 'chat_template'", e.Message);
        Assert.Contains("has no chat template", e.Message);
    }

    [Fact]
    public void Sft_with_the_tokenizers_template_trains_on_its_assistant_spans()
    {
        string run = Path.Combine(_dir, "sft-own");

        SftTrainer.Run(Config(OwnTokenizer), run, resume: false);

        Assert.True(File.Exists(Path.Combine(run, "model", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(run, "model", "tokenizer_config.json")));
        var saved = JinjaChatTemplate.FromTokenizerDirectory(Path.Combine(run, "model"));
        Assert.NotNull(saved);
        Assert.Equal(OwnTemplate, saved.Template.Source);
    }
}
