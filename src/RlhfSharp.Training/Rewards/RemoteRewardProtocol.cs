using System.Globalization;
using System.Text;
using System.Text.Json;

namespace RlhfSharp.Training.Rewards;

/// <summary>
/// OpenRLHF's remote reward protocol: a request is
/// <c>{"query": [prompt+response, …], "prompts": [prompt, …], "labels": [label, …]}</c> and the answer
/// <c>{"rewards": [number, …]}</c>, one reward per query, in order; other fields of the answer are ignored.
/// </summary>
public static class RemoteRewardProtocol
{
    /// <summary>The path OpenRLHF's reward servers answer at.</summary>
    public const string Path = "/get_reward";

    /// <summary>The request body for queries (each prompt followed by its response), their prompts and labels (JSON values or null).</summary>
    public static byte[] WriteRequest(IReadOnlyList<string> queries, IReadOnlyList<string> prompts, IReadOnlyList<JsonElement?> labels)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(labels);
        if (prompts.Count != queries.Count || labels.Count != queries.Count)
            throw new ArgumentException($"{queries.Count} queries, {prompts.Count} prompts and {labels.Count} labels; expected one of each per query");
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartArray("query");
            foreach (var q in queries)
                w.WriteStringValue(q);
            w.WriteEndArray();
            w.WriteStartArray("prompts");
            foreach (var p in prompts)
                w.WriteStringValue(p);
            w.WriteEndArray();
            w.WriteStartArray("labels");
            foreach (var l in labels)
            {
                if (l is { } label)
                    label.WriteTo(w);
                else
                    w.WriteNullValue();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>
    /// The rewards of an answer to <paramref name="expected"/> queries; throws a
    /// <see cref="RemoteRewardException"/> naming <paramref name="url"/> when the answer is not JSON,
    /// has no <c>rewards</c> array, holds another count, or holds something other than finite numbers.
    /// </summary>
    public static double[] ReadAnswer(string body, int expected, Uri url)
    {
        ArgumentNullException.ThrowIfNull(body);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            if (body.Contains("NaN", StringComparison.Ordinal) || body.Contains("Infinity", StringComparison.Ordinal))
                throw new RemoteRewardException($"reward server {url} answered with NaN or Infinity, which are not JSON numbers; rewards must be finite numbers: {Start(body)}");
            throw new RemoteRewardException($"reward server {url} answered with something that is not JSON ({e.Message}): {Start(body)}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("rewards", out var rewards))
                throw new RemoteRewardException($"reward server {url} answered without a \"rewards\" field; expected {{\"rewards\": [number, ...]}}, got: {Start(body)}");
            if (rewards.ValueKind != JsonValueKind.Array)
                throw new RemoteRewardException($"reward server {url}: \"rewards\" must be an array of numbers, got a {rewards.ValueKind}: {Start(body)}");
            int count = rewards.GetArrayLength();
            if (count != expected)
                throw new RemoteRewardException($"reward server {url} returned {count} rewards for {expected} queries; expected one reward per query, in order");
            var result = new double[count];
            int i = 0;
            foreach (var r in rewards.EnumerateArray())
            {
                if (r.ValueKind != JsonValueKind.Number || !r.TryGetDouble(out double value))
                    throw new RemoteRewardException($"reward server {url}: rewards[{i}] must be a number, got {Start(r.GetRawText())}");
                if (!double.IsFinite(value))
                    throw new RemoteRewardException($"reward server {url}: rewards[{i}] is {value.ToString(CultureInfo.InvariantCulture)}; rewards must be finite numbers");
                result[i++] = value;
            }
            return result;
        }
    }

    /// <summary>The first 200 characters of <paramref name="text"/>, on one line, for error messages.</summary>
    public static string Start(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var start = text.Length <= 200 ? text : text[..200] + "...";
        var sb = new StringBuilder(start.Length);
        foreach (char c in start)
            sb.Append(char.IsControl(c) ? ' ' : c);
        return sb.Length == 0 ? "(empty body)" : sb.ToString();
    }
}
