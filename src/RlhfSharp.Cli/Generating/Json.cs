using System.Text.Encodings.Web;
using System.Text.Json;

namespace RlhfSharp.Cli.Generating;

/// <summary>JSON written for people and scripts: non-ASCII text as itself, not as \u escapes.</summary>
internal static class Json
{
    public static JsonSerializerOptions Relaxed { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
