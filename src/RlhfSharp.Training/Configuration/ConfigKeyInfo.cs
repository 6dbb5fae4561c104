namespace RlhfSharp.Training.Configuration;

/// <summary>
/// One settable key of a config class, as <see cref="ConfigDocs.Describe{T}"/> lists it.
/// </summary>
/// <param name="Key">The dotted key path: <c>learning_rate</c>, <c>model_init.hidden_size</c>.</param>
/// <param name="Type">The type as docs show it: <c>float</c>, <c>int?</c>, <c>list&lt;string&gt;</c>, <c>cosine|linear</c>, <c>section</c>.</param>
/// <param name="Default">The default, written as YAML (<c>0.0001</c>, <c>"cosine"</c>, <c>[]</c>, <c>null</c>).</param>
/// <param name="Description">The description from <see cref="ConfigKeyAttribute"/>, if any.</param>
/// <param name="ValueType">The CLR property type.</param>
/// <param name="IsSection">True for a nested section's own row (its keys follow as <c>section.key</c> rows).</param>
public sealed record ConfigKeyInfo(string Key, string Type, string Default, string? Description, Type ValueType,
    bool IsSection);
