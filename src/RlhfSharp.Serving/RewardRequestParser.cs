using System.Text.Json;

namespace RlhfSharp.Serving;

/// <summary>
/// Reads a body of OpenRLHF's remote reward protocol, <c>{"query": [...], "prompts": [...], "labels": [...]}</c>:
/// query and prompts are arrays of strings of the same length, each query starting with its prompt;
/// labels, when present, is an array of that length too, and is not used (a reward model reads
/// only the text). Anything else is a 400 that names the field and index.
/// </summary>
internal static class RewardRequestParser
{
    public static RewardRequest Parse(ReadOnlyMemory<byte> body, int maxQueries)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"The body is not valid JSON: {e.Message}", null, "invalid_json");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw ApiError.BadRequest($"The body must be a JSON object {{\"query\": [...], \"prompts\": [...], \"labels\": [...]}}, got a {root.ValueKind}.", null);
            var queries = Strings(root, "query", maxQueries);
            var prompts = Strings(root, "prompts", maxQueries);
            if (prompts.Count != queries.Count)
                throw ApiError.BadRequest($"prompts has {prompts.Count} items but query has {queries.Count}; send one prompt per query.", "prompts");
            if (root.TryGetProperty("labels", out var labels) && labels.ValueKind != JsonValueKind.Null)
            {
                if (labels.ValueKind != JsonValueKind.Array)
                    throw ApiError.BadRequest($"labels must be an array (one label per query, or null), got a {labels.ValueKind}.", "labels");
                if (labels.GetArrayLength() != queries.Count)
                    throw ApiError.BadRequest($"labels has {labels.GetArrayLength()} items but query has {queries.Count}; send one label per query.", "labels");
            }
            var responses = new string[queries.Count];
            for (int i = 0; i < queries.Count; i++)
            {
                if (!queries[i].StartsWith(prompts[i], StringComparison.Ordinal))
                    throw ApiError.BadRequest($"query[{i}] does not start with prompts[{i}]; each query must be its prompt followed by the response.", $"query[{i}]");
                responses[i] = queries[i][prompts[i].Length..];
            }
            return new RewardRequest(prompts, responses);
        }
    }

    private static List<string> Strings(JsonElement root, string name, int maxQueries)
    {
        if (!root.TryGetProperty(name, out var array))
            throw ApiError.BadRequest($"The body has no \"{name}\" field; expected an array of strings.", name, "missing_field");
        if (array.ValueKind != JsonValueKind.Array)
            throw ApiError.BadRequest($"{name} must be an array of strings, got a {array.ValueKind}.", name);
        if (array.GetArrayLength() > maxQueries)
            throw ApiError.BadRequest($"{name} has {array.GetArrayLength()} items, over this server's limit of {maxQueries} (max_queries); send fewer per request.", name, "too_many_queries");
        var result = new List<string>(array.GetArrayLength());
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw ApiError.BadRequest($"{name}[{i}] must be a string, got a {item.ValueKind}.", $"{name}[{i}]");
            result.Add(item.GetString()!);
            i++;
        }
        return result;
    }
}
