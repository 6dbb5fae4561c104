namespace RlhfSharp.Fuzz;

/// <summary>
/// One parser under fuzzing: <see cref="Parse"/> feeds it the input bytes the way a user's file or
/// request would reach it (through a file in <see cref="Scratch"/> where the parser reads files),
/// then uses what it returned as a caller would.
/// </summary>
public sealed record FuzzTarget(string Name, string What, Action<byte[], Scratch> Parse);
