namespace RlhfSharp.Training.Configuration;

/// <summary>How a config property's value is written in YAML.</summary>
internal enum ConfigFieldKind
{
    /// <summary>One scalar: string, int, long, float, double, bool or an enum (nullable or not).</summary>
    Scalar,

    /// <summary>A sequence of scalars, bound to <c>List&lt;T&gt;</c>.</summary>
    List,

    /// <summary>A nested mapping, bound to a class with its own [ConfigKey] properties.</summary>
    Section,
}
