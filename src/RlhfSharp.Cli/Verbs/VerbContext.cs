namespace RlhfSharp.Cli.Verbs;

/// <summary>What a <see cref="ConfigVerb{TConfig}"/> gets besides its config.</summary>
/// <param name="Output">Where normal output goes (standard output, or a test's writer).</param>
/// <param name="Error">Where diagnostics go (standard error, or a test's writer).</param>
/// <param name="ConfigPath">The YAML file the config was read from, if any.</param>
/// <param name="OutDir">The run folder to write into: <c>--out</c>, else the <c>--resume</c> folder, else null.</param>
/// <param name="ResumeDir">The run folder to resume from (<c>--resume</c>), if any.</param>
/// <param name="ResolvedYaml">The resolved config as YAML, ready to store as <see cref="ConfigVerbOptions.ResolvedConfigFileName"/>.</param>
public sealed record VerbContext(TextWriter Output, TextWriter Error, string? ConfigPath, string? OutDir,
    string? ResumeDir, string ResolvedYaml);
