using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RlhfSharp.Text.Saving;

/// <summary>Writes the tokenizer_config.json that goes with a saved tokenizer.json (transformers' PreTrainedTokenizerFast).</summary>
internal static class TokenizerConfigWriter
{
    public static string Write(BpeTokenizer tokenizer)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, TokenizerJsonWriter.Options))
        {
            w.WriteStartObject();
            if (tokenizer.BosEosFlagsExplicit)
            {
                w.WriteBoolean("add_bos_token", tokenizer.AddBosToken);
                w.WriteBoolean("add_eos_token", tokenizer.AddEosToken);
            }
            w.WriteStartObject("added_tokens_decoder");
            foreach (var t in tokenizer.AddedTokens)
            {
                w.WriteStartObject(t.Id.ToString(CultureInfo.InvariantCulture));
                w.WriteString("content", t.Content);
                w.WriteBoolean("lstrip", t.LStrip);
                w.WriteBoolean("normalized", t.Normalized);
                w.WriteBoolean("rstrip", t.RStrip);
                w.WriteBoolean("single_word", t.SingleWord);
                w.WriteBoolean("special", t.Special);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteToken(w, "bos_token", tokenizer.BosToken);
            WriteToken(w, "eos_token", tokenizer.EosToken);
            WriteToken(w, "pad_token", tokenizer.PadToken);
            WriteToken(w, "unk_token", tokenizer.UnkToken);
            w.WriteBoolean("clean_up_tokenization_spaces", false);
            if (tokenizer.ModelMaxLength is int max) w.WriteNumber("model_max_length", max);
            w.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteToken(Utf8JsonWriter w, string key, string? token)
    {
        if (token is null) w.WriteNull(key);
        else w.WriteString(key, token);
    }
}
