using System.Text.Json;
using System.Text.Json.Nodes;

namespace RlhfSharp.Training.Checkpointing;

/// <summary>
/// Everything besides weights and optimizer moments that a resumed run needs to continue exactly:
/// the step, the data position, generator states, controller states. Stored as trainer_state.json.
/// </summary>
public sealed class TrainerState
{
    private readonly JsonObject _values;

    public TrainerState(long step)
    {
        _values = new JsonObject { ["step"] = step };
    }

    private TrainerState(JsonObject values) => _values = values;

    public long Step => _values["step"]!.GetValue<long>();

    public void Set(string key, long value) => _values[key] = value;

    public void Set(string key, double value) => _values[key] = value;

    public void Set(string key, string value) => _values[key] = value;

    /// <summary>A generator state (four 64-bit words, stored as decimal strings so JSON keeps every bit).</summary>
    public void Set(string key, ulong[] words) =>
        _values[key] = new JsonArray(words.Select(w => (JsonNode?)JsonValue.Create(w.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray());

    public void SetDoubles(string key, IEnumerable<double> values) =>
        _values[key] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    public long GetLong(string key) => Get(key).GetValue<long>();

    public double GetDouble(string key) => Get(key).GetValue<double>();

    public string GetString(string key) => Get(key).GetValue<string>();

    public ulong[] GetWords(string key) => Get(key).AsArray().Select(n => ulong.Parse(n!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    public double[] GetDoubles(string key) => Get(key).AsArray().Select(n => n!.GetValue<double>()).ToArray();

    public bool Contains(string key) => _values.ContainsKey(key);

    private JsonNode Get(string key) => _values[key] ?? throw new InvalidDataException($"trainer_state.json has no '{key}'; the checkpoint was written by a different trainer or version");

    public string ToJson() => _values.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    public static TrainerState Parse(string json, string path)
    {
        try
        {
            var obj = JsonNode.Parse(json) as JsonObject ?? throw new InvalidDataException($"{path}: expected a JSON object");
            if (obj["step"] is not JsonValue)
                throw new InvalidDataException($"{path}: missing 'step'");
            return new TrainerState(obj);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON: {e.Message}");
        }
    }
}
