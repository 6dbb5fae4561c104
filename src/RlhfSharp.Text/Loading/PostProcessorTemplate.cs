namespace RlhfSharp.Text.Loading;

/// <summary>
/// The single-sequence part of tokenizer.json's <c>post_processor</c>: the special token ids put
/// before and after the text when special tokens are added, and the section's JSON so that
/// saving writes it back unchanged.
/// </summary>
internal sealed record PostProcessorTemplate(string Json, int[] Prefix, int[] Suffix);
