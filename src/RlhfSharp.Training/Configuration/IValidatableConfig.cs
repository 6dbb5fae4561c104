namespace RlhfSharp.Training.Configuration;

/// <summary>
/// A config class (or nested section) that checks its own ranges after binding. The binder
/// collects the problems of the whole config and throws one <see cref="ConfigException"/>
/// listing them all.
/// </summary>
public interface IValidatableConfig
{
    /// <summary>One message per problem, naming the key and the allowed range; empty when valid.</summary>
    IEnumerable<string> Validate();
}
