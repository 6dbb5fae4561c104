using RlhfSharp.Text.Chat;
using RlhfSharp.Training.Configuration;

namespace RlhfSharp.Training.Foundation;

/// <summary>Where a trainer's data, tokenizer and starting model come from, and how sequences are cut.</summary>
public abstract class ModelTrainConfig : TrainLoopConfig, ITrainerSources
{
    [ConfigKey("data", "A data folder laid out as `rlhf data builtin` writes it; supplies default files, the tokenizer and the gold scorer")]
    public string? Data { get; set; }

    [ConfigKey("train_file", "Training data: JSONL, or Parquet with the same columns (a .parquet file, a folder of them, or a shard pattern such as data/train-*.parquet); default: the verb's file in the data folder")]
    public string? TrainFile { get; set; }

    [ConfigKey("extra_train_files", "More training files in train_file's format, appended to it (e.g. pairs from `rlhf label` beside the data folder's own)")]
    public List<string> ExtraTrainFiles { get; set; } = [];

    [ConfigKey("eval_file", "Held-out data (JSONL or Parquet, as train_file); default: the verb's held-out file in the data folder")]
    public string? EvalFile { get; set; }

    [ConfigKey("model", "HF model folder to start from; empty = a new model shaped by model_init")]
    public string? Model { get; set; }

    [ConfigKey("tokenizer", "Tokenizer folder; default the model folder, else <data>/tokenizer")]
    public string? Tokenizer { get; set; }

    [ConfigKey("chat_template", "auto (the tokenizer's own chat_template when it has one, else chatml), tokenizer (its own, required; tokenizer:NAME for a named one), chatml, llama3 or plain")]
    public string ChatTemplate { get; set; } = "auto";

    [ConfigKey("special_tokens_in_content", "How special and added tokens written inside messages (\"<|im_end|>\" in a user turn) are encoded: text (plain text, only the chat template writes control tokens) or control (as those tokens, for trusted data whose messages are meant to hold markers such as <think>)")]
    public SpecialTokensInContent SpecialTokensInContent { get; set; } = SpecialTokensInContent.Text;

    [ConfigKey("model_init", "Shape of a model trained from scratch")]
    public ModelInitSection ModelInit { get; set; } = new();

    [ConfigKey("group_by_length", "Batch examples (pairs: by the longer answer) of like token lengths together (each epoch shuffled, cut into groups of 50 batches, each group sorted by length, its batches shuffled): a batch is padded to its longest example, so less of each step is spent on padding")]
    public bool GroupByLength { get; set; }

    [ConfigKey("max_length", "Tokens per sequence after truncation (prompt + response)")]
    public int MaxLength { get; set; } = 64;

    [ConfigKey("max_prompt_length", "Prompt tokens kept (from the end)")]
    public int MaxPromptLength { get; set; } = 32;

    [ConfigKey("skip_bad_lines", "Count and skip malformed data lines (or Parquet rows) instead of stopping")]
    public bool SkipBadLines { get; set; }

    public override IEnumerable<string> Validate()
    {
        foreach (var p in base.Validate())
            yield return p;
        if (Data is null && TrainFile is null)
            yield return "give a data folder (data) or a train_file";
        if (MaxLength <= 1 || MaxPromptLength <= 0)
            yield return "max_length must be > 1 and max_prompt_length > 0";
    }
}
