using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Training.Judges.Human;

namespace RlhfSharp.Serving.Labelling;

/// <summary>Reads the labelling API's request bodies and writes its answers; a bad field is a 400 naming it.</summary>
internal static class LabelRequests
{
    public const int MaxNoteLength = 2000;

    /// <summary>The body of <c>POST /api/label</c>.</summary>
    public static Submission ParseLabel(ReadOnlyMemory<byte> body)
    {
        using var doc = Parse(body);
        var root = doc.RootElement;
        var labeller = Labeller(root);
        var item = RequireString(root, "item");
        if (!LabelNames.TryParseSide(RequireString(root, "left"), out var left))
            throw ApiError.BadRequest("left must be \"a\" or \"b\": the response the page showed on the left, as /api/next gave it.", "left");
        if (!LabelNames.TryParseChoice(RequireString(root, "choice"), out var choice))
            throw ApiError.BadRequest("choice must be one of \"left\", \"right\", \"tie\", \"both_bad\", \"skip\".", "choice");
        Ratings? leftRatings = null, rightRatings = null;
        if (root.TryGetProperty("ratings", out var ratings) && ratings.ValueKind != JsonValueKind.Null)
        {
            if (ratings.ValueKind != JsonValueKind.Object)
                throw ApiError.BadRequest("ratings must be an object {\"left\": {...}, \"right\": {...}}.", "ratings");
            leftRatings = ParseRatings(ratings, "left");
            rightRatings = ParseRatings(ratings, "right");
        }
        string? note = null;
        if (root.TryGetProperty("note", out var noteValue) && noteValue.ValueKind != JsonValueKind.Null)
        {
            if (noteValue.ValueKind != JsonValueKind.String)
                throw ApiError.BadRequest("note must be a string.", "note");
            note = noteValue.GetString()!.Trim();
            if (note.Length > MaxNoteLength)
                throw ApiError.BadRequest($"note is {note.Length} characters; at most {MaxNoteLength} are kept.", "note");
        }
        double seconds = 0;
        if (root.TryGetProperty("seconds", out var sec) && sec.ValueKind != JsonValueKind.Null)
        {
            if (sec.ValueKind != JsonValueKind.Number || !(sec.GetDouble() >= 0))
                throw ApiError.BadRequest("seconds must be a number >= 0: the time from showing the pair to the choice.", "seconds");
            seconds = Math.Min(sec.GetDouble(), 86400);
        }
        return new Submission(labeller, item, left, choice, leftRatings, rightRatings, note, seconds);
    }

    /// <summary>The body of <c>POST /api/undo</c>: the labeller.</summary>
    public static string ParseUndo(ReadOnlyMemory<byte> body)
    {
        using var doc = Parse(body);
        return Labeller(doc.RootElement);
    }

    /// <summary>A labeller name from a query string or body value.</summary>
    public static string CheckLabeller(string? name, string param)
    {
        if (string.IsNullOrEmpty(name))
            throw ApiError.BadRequest("labeller is required: the name of the person labelling (open the page with ?labeller=NAME).", param, "missing_labeller");
        if (!LabellerNames.IsValid(name))
            throw ApiError.BadRequest($"labeller is not a valid name; {LabellerNames.Rule}.", param);
        return name;
    }

    private static string Labeller(JsonElement root) =>
        CheckLabeller(root.TryGetProperty("labeller", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null, "labeller");

    private static Ratings? ParseRatings(JsonElement ratings, string side)
    {
        if (!ratings.TryGetProperty(side, out var value) || value.ValueKind == JsonValueKind.Null)
            return null;
        if (value.ValueKind != JsonValueKind.Object)
            throw ApiError.BadRequest($"ratings.{side} must be an object like {{\"helpful\": 5}}.", $"ratings.{side}");
        int?[] scores = new int?[Ratings.Axes.Count];
        foreach (var property in value.EnumerateObject())
        {
            int axis = Ratings.Axes.ToList().IndexOf(property.Name);
            string param = $"ratings.{side}.{property.Name}";
            if (axis < 0)
                throw ApiError.BadRequest($"{param}: the rated axes are {string.Join(", ", Ratings.Axes)}.", param);
            if (property.Value.ValueKind == JsonValueKind.Null)
                continue;
            if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt32(out int score) || score is < Ratings.Min or > Ratings.Max)
                throw ApiError.BadRequest($"{param} must be a whole number from {Ratings.Min} to {Ratings.Max}.", param);
            scores[axis] = score;
        }
        return new Ratings(scores[0], scores[1], scores[2]);
    }

    private static string RequireString(JsonElement root, string field) =>
        root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw ApiError.BadRequest($"{field} is required and must be a string.", field);

    private static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        JsonApi.CheckUnicode(body.Span);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw ApiError.BadRequest($"The body is not valid JSON: {e.Message}", null, "invalid_json");
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw ApiError.BadRequest("The body must be a JSON object.", null, "invalid_json");
        }
        return doc;
    }

    public static JsonObject Item(ItemView view) => new()
    {
        ["id"] = view.Item.Id,
        ["left"] = LabelNames.Name(view.Left),
        ["prompt"] = PromptJson.Messages(view.Item.Prompt),
        ["left_text"] = view.LeftText,
        ["right_text"] = view.RightText,
    };

    public static JsonObject Progress(Progress p) => new()
    {
        ["items_done"] = p.ItemsDone,
        ["items"] = p.Items,
        ["labels"] = p.Labels,
        ["labels_needed"] = p.LabelsNeeded,
        ["yours"] = p.Yours,
        ["pace_per_min"] = p.PacePerMinute,
        ["seconds_per_label"] = p.SecondsPerLabel,
    };

    public static JsonObject Next(NextResult next) => new()
    {
        ["state"] = next.State switch { NextState.Item => "item", NextState.Waiting => "waiting", _ => "done" },
        ["item"] = next.View is null ? null : Item(next.View),
        ["progress"] = Progress(next.Progress),
    };
}
