using RlhfSharp.Text;
using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Foundation;

/// <summary>
/// What every trainer resolves first, in one place and one order: the kernel thread count, the
/// tokenizer, the chat template and the data folder's gold scorer (null without one), and how
/// added tokens in the data's messages are encoded (<see cref="Content"/>, plain text unless the
/// config trusts the data).
/// </summary>
public sealed record TrainerInputs(BpeTokenizer Tokenizer, ChatTemplate Template, IRewardSource? Gold,
    SpecialTokensInContent Content = SpecialTokensInContent.Text)
{
    /// <summary>Applies <c>threads</c>, then loads the tokenizer, the template and the gold scorer named by <paramref name="cfg"/>.</summary>
    public static TrainerInputs Resolve<T>(T cfg)
        where T : TrainLoopConfig, ITrainerSources
    {
        TrainerSetup.ApplyThreads(cfg);
        var dir = TrainerSetup.TokenizerDir(cfg.Tokenizer, cfg.Model, cfg.Data);
        var inputs = new TrainerInputs(BpeTokenizer.FromDirectory(dir), TrainerSetup.Template(cfg.ChatTemplate, dir), TrainerSetup.Gold(cfg.Data), cfg.SpecialTokensInContent) { TokenizerDir = dir };
        if (cfg.Model is not null && File.Exists(Path.Combine(cfg.Model, "config.json")))
            inputs.CheckModel(cfg.Model);
        return inputs;
    }

    /// <summary>The folder the tokenizer was read from (null when it was built in memory).</summary>
    public string? TokenizerDir { get; init; }

    /// <summary>Checks the tokenizer against a model folder before its weights are loaded (<see cref="TokenizerModelCheck"/>).</summary>
    public void CheckModel(string modelDir) => TokenizerModelCheck.Check(Tokenizer, TokenizerDir, modelDir);

    /// <summary>Left-padded prompts in the chat template, keeping the last <paramref name="maxPromptLength"/> tokens.</summary>
    public PromptCollator PromptCollator(int maxPromptLength) =>
        new(Tokenizer, Template, new CollatorOptions { MaxPromptLength = maxPromptLength, PadTokenId = Tokenizer.PadTokenId, SpecialTokensInContent = Content });
}
