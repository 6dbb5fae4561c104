using RlhfSharp.Models.Transformer;
using RlhfSharp.Training.Data;
using RlhfSharp.Training.Foundation;

namespace RlhfSharp.Training.Trainers;

/// <summary>The preference collator a pairwise trainer's config asks for.</summary>
internal static class PairCollator
{
    public static PreferenceCollator For(PreferenceTrainConfig cfg, TrainerInputs inputs, CausalLM policy) => new(inputs.Tokenizer, inputs.Template, new CollatorOptions
    {
        MaxLength = Math.Min(cfg.MaxLength, policy.Config.MaxPositions),
        MaxPromptLength = cfg.MaxPromptLength,
        PadTokenId = inputs.Tokenizer.PadTokenId,
        SpecialTokensInContent = inputs.Content,
    });
}
