namespace RlhfSharp.Alignment;

/// <summary>A config named an algorithm (advantage estimator, policy loss, KL estimator) that is not registered.</summary>
public sealed class UnknownAlgorithmException(string kind, string name, IEnumerable<string> valid)
    : ArgumentException($"unknown {kind} '{name}'; valid: {string.Join(", ", valid)}"), IUserError
{
    public string Kind { get; } = kind;

    public string Name { get; } = name;
}
