namespace RlhfSharp.Training.Data;

/// <summary>What was wrong with a data file or line; <see cref="LoadReport"/> counts skipped lines by kind.</summary>
public enum DataErrorKind
{
    /// <summary>The file does not exist.</summary>
    FileNotFound,

    /// <summary>The file has no non-blank lines (a Parquet file or shard set, no rows).</summary>
    EmptyFile,

    /// <summary>Every line was skipped as bad, so nothing is left to train on.</summary>
    NoUsableLines,

    /// <summary>A line (or a Parquet text value) is not valid UTF-8.</summary>
    InvalidEncoding,

    /// <summary>A line is not valid JSON.</summary>
    InvalidJson,

    /// <summary>A line is valid JSON but not an object.</summary>
    NotAnObject,

    /// <summary>A required field is absent.</summary>
    MissingField,

    /// <summary>A field has the wrong JSON type (e.g. <c>"completion": 5</c>).</summary>
    WrongType,

    /// <summary>A message has a role other than system, user or assistant.</summary>
    UnknownRole,

    /// <summary>A prompt is empty where one is required.</summary>
    EmptyPrompt,

    /// <summary>A completion, chosen or rejected response is empty or only whitespace.</summary>
    EmptyResponse,

    /// <summary>A preference pair's chosen and rejected responses are the same text.</summary>
    IdenticalResponses,

    /// <summary>A dialogue has the wrong shape (no final assistant turn, HH prefixes that differ…).</summary>
    InvalidDialogue,

    /// <summary>An example is longer than the collator's limits and truncation is off.</summary>
    TooLong,

    /// <summary>A labelling file holds a second label by the same labeller for the same pair.</summary>
    DuplicateLabel,

    /// <summary>A Parquet file cannot be decoded (truncated, not Parquet, a damaged page).</summary>
    CorruptFile,
}
