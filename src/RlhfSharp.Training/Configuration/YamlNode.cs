namespace RlhfSharp.Training.Configuration;

/// <summary>Where a YAML node came from: a file (with line and column) or a command-line override.</summary>
internal sealed record YamlSource(string Name, bool HasLines)
{
    public string Locate(YamlNode node) => HasLines ? $"{Name}:{node.Line}:{node.Column}" : Name;
}

/// <summary>A YAML node with the 1-based line and column where it starts.</summary>
internal abstract record YamlNode(YamlSource Source, int Line, int Column)
{
    public string Location => Source.Locate(this);

    public int? FileLine => Source.HasLines ? Line : null;
}

/// <summary>A scalar and whether it was plain (unquoted), which decides whether it can mean null.</summary>
internal sealed record YamlScalar(YamlSource Source, int Line, int Column, string Text, bool Plain)
    : YamlNode(Source, Line, Column)
{
    public bool IsNull => ScalarText.IsNull(Text, Plain);

    /// <summary>The text as a message quotes it.</summary>
    public string Shown => IsNull ? "null" : $"'{Text}'";
}

/// <summary>A sequence (block <c>- a</c> or flow <c>[a, b]</c>).</summary>
internal sealed record YamlSequence(YamlSource Source, int Line, int Column, IReadOnlyList<YamlNode> Items)
    : YamlNode(Source, Line, Column);

/// <summary>A mapping with scalar keys, in document order, keys unique.</summary>
internal sealed record YamlMapping(YamlSource Source, int Line, int Column,
    IReadOnlyList<KeyValuePair<YamlScalar, YamlNode>> Entries)
    : YamlNode(Source, Line, Column);
