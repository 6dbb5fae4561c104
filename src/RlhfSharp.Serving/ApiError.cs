using System.Text.Json.Nodes;

namespace RlhfSharp.Serving;

/// <summary>
/// A request the server refuses, answered as OpenAI's error object:
/// <c>{"error": {"message", "type", "param", "code"}}</c> with the HTTP status <see cref="Status"/>.
/// </summary>
internal sealed class ApiError(int status, string message, string? param = null, string? code = null,
    string type = "invalid_request_error") : Exception(message)
{
    public int Status { get; } = status;

    public string Type { get; } = type;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    public static ApiError BadRequest(string message, string? param, string code = "invalid_value") => new(400, message, param, code);

    public JsonObject ToJson() => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = Message,
            ["type"] = Type,
            ["param"] = Param,
            ["code"] = Code,
        },
    };
}
