using RlhfSharp.Text.Loading;
using RlhfSharp.Text.Saving;

namespace RlhfSharp.Text;

public sealed partial class BpeTokenizer
{
    public const string TokenizerJsonFileName = "tokenizer.json";
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    /// <summary>
    /// Loads a tokenizer.json, and the tokenizer_config.json beside it when there is one (or the
    /// one named by <paramref name="tokenizerConfigPath"/>) for the special tokens.
    /// </summary>
    /// <param name="tokenizerJsonPath">The tokenizer.json.</param>
    /// <param name="tokenizerConfigPath">The tokenizer_config.json; null for the one beside the tokenizer.json, if any.</param>
    /// <param name="options">Settings the files do not hold (the regex time limit); null for the defaults.</param>
    /// <exception cref="TokenizerFormatException">A file is missing, malformed or unsupported.</exception>
    public static BpeTokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null, TokenizerLoadOptions? options = null)
    {
        string json = TokenizerFiles.ReadText(tokenizerJsonPath, "a Hugging Face tokenizer.json");
        string? config = null;
        if (tokenizerConfigPath is not null)
            config = TokenizerFiles.ReadText(tokenizerConfigPath, "a tokenizer_config.json");
        else
        {
            string beside = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath)) ?? ".", TokenizerConfigFileName);
            if (File.Exists(beside))
            {
                tokenizerConfigPath = beside;
                config = TokenizerFiles.ReadText(beside, "a tokenizer_config.json");
            }
        }
        return FromJson(json, config, tokenizerJsonPath, tokenizerConfigPath ?? TokenizerConfigFileName, options);
    }

    /// <summary>
    /// Loads from a model folder: tokenizer.json (+ tokenizer_config.json), or failing that the
    /// GPT-2 pair encoder.json + vocab.bpe.
    /// </summary>
    public static BpeTokenizer FromDirectory(string directory, TokenizerLoadOptions? options = null)
    {
        string json = Path.Combine(directory, TokenizerJsonFileName);
        if (File.Exists(json)) return FromFile(json, options: options);
        string encoder = Path.Combine(directory, "encoder.json"), merges = Path.Combine(directory, "vocab.bpe");
        if (File.Exists(encoder) && File.Exists(merges)) return FromGpt2Files(encoder, merges);
        throw new TokenizerFormatException(json, "(file)",
            "file not found; expected tokenizer.json (or the GPT-2 pair encoder.json + vocab.bpe) in this folder");
    }

    /// <summary>Builds a tokenizer from the text of a tokenizer.json and optionally a tokenizer_config.json.</summary>
    /// <param name="tokenizerJson">The tokenizer.json text.</param>
    /// <param name="tokenizerConfigJson">The tokenizer_config.json text, or null.</param>
    /// <param name="sourceName">The name error messages give the tokenizer.json.</param>
    /// <param name="configSourceName">The name error messages give the tokenizer_config.json.</param>
    /// <param name="options">Settings the files do not hold (the regex time limit); null for the defaults.</param>
    public static BpeTokenizer FromJson(string tokenizerJson, string? tokenizerConfigJson = null,
        string sourceName = TokenizerJsonFileName, string configSourceName = TokenizerConfigFileName, TokenizerLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizerJson);
        var tokenizer = TokenizerJsonReader.Read(tokenizerJson, sourceName, (options ?? new TokenizerLoadOptions()).ResolveRegexTimeout());
        if (tokenizerConfigJson is not null)
            tokenizer.ApplyConfig(TokenizerConfigReader.Read(tokenizerConfigJson, configSourceName));
        return tokenizer;
    }

    /// <summary>
    /// Loads the original GPT-2 files. Pre-tokenization is GPT-2's regex with no prefix space;
    /// <c>&lt;|endoftext|&gt;</c> is BOS, EOS and UNK and is recognised in text.
    /// </summary>
    public static BpeTokenizer FromGpt2Files(string encoderJsonPath, string vocabBpePath)
    {
        string encoder = TokenizerFiles.ReadText(encoderJsonPath, "GPT-2's encoder.json (token to id)");
        string merges = TokenizerFiles.ReadText(vocabBpePath, "GPT-2's vocab.bpe (merges, one per line)");
        return Gpt2FilesReader.Read(encoder, encoderJsonPath, merges, vocabBpePath);
    }

    /// <summary>Writes tokenizer.json and tokenizer_config.json into <paramref name="directory"/> (created if needed).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, TokenizerJsonFileName), ToJson());
        File.WriteAllText(Path.Combine(directory, TokenizerConfigFileName), ToConfigJson());
    }

    /// <summary>This tokenizer as tokenizer.json text (the Hugging Face tokenizers schema, version 1.0).</summary>
    public string ToJson() => TokenizerJsonWriter.Write(this);

    /// <summary>The matching tokenizer_config.json text.</summary>
    public string ToConfigJson() => TokenizerConfigWriter.Write(this);
}
