using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using RlhfSharp.Text.PreTokenization;

namespace RlhfSharp.Text.Saving;

/// <summary>
/// Writes a tokenizer as tokenizer.json in the Hugging Face tokenizers schema (version "1.0"):
/// version, truncation, padding, added_tokens, normalizer, pre_tokenizer, post_processor,
/// decoder, model. Merges are written as "left right" strings, which every tokenizers version
/// reads (byte-level tokens never contain a space), or as pairs when one would.
/// </summary>
internal static class TokenizerJsonWriter
{
    internal static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Write(BpeTokenizer tokenizer)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            foreach (var t in tokenizer.AddedTokens)
            {
                w.WriteStartObject();
                w.WriteNumber("id", t.Id);
                w.WriteString("content", t.Content);
                w.WriteBoolean("single_word", t.SingleWord);
                w.WriteBoolean("lstrip", t.LStrip);
                w.WriteBoolean("rstrip", t.RStrip);
                w.WriteBoolean("normalized", t.Normalized);
                w.WriteBoolean("special", t.Special);
                w.WriteEndObject();
            }
            w.WriteEndArray();

            w.WritePropertyName("normalizer");
            if (tokenizer.Normalizer is null) w.WriteNullValue();
            else tokenizer.Normalizer.WriteJson(w);
            w.WritePropertyName("pre_tokenizer");
            tokenizer.PreTokenizer.WriteJson(w);
            w.WritePropertyName("post_processor");
            if (tokenizer.PostProcessor is not null) w.WriteRawValue(tokenizer.PostProcessor.Json);
            else ByteLevelPreTokenizer.WriteByteLevel(w, addPrefixSpace: false, trimOffsets: false, useRegex: false);
            w.WritePropertyName("decoder");
            ByteLevelPreTokenizer.WriteByteLevel(w, addPrefixSpace: false, trimOffsets: false, useRegex: false);

            WriteModel(w, tokenizer);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteModel(Utf8JsonWriter w, BpeTokenizer tokenizer)
    {
        var model = tokenizer.Model;
        w.WriteStartObject("model");
        w.WriteString("type", "BPE");
        w.WriteNull("dropout");
        if (model.UnkToken is null) w.WriteNull("unk_token");
        else w.WriteString("unk_token", model.UnkToken);
        w.WriteNull("continuing_subword_prefix");
        w.WriteNull("end_of_word_suffix");
        w.WriteBoolean("fuse_unk", false);
        w.WriteBoolean("byte_fallback", false);
        w.WriteBoolean("ignore_merges", model.IgnoreMerges);
        w.WriteStartObject("vocab");
        var idToToken = model.IdToToken;
        for (int id = 0; id < idToToken.Length; id++)
            if (idToToken[id] is { } token && model.Vocab[token] == id) w.WriteNumber(token, id);
        w.WriteEndObject();
        bool pairs = model.Merges.Any(m => m.Left.Contains(' ') || m.Right.Contains(' '));
        w.WriteStartArray("merges");
        foreach (var (left, right) in model.Merges)
        {
            if (pairs)
            {
                w.WriteStartArray();
                w.WriteStringValue(left);
                w.WriteStringValue(right);
                w.WriteEndArray();
            }
            else w.WriteStringValue(left + " " + right);
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
