using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfSharp.Training.Data;

namespace RlhfSharp.Training.Judges.Human;

/// <summary>
/// The JSON lines a human labelling session writes. A left or right choice is a preference line,
/// the format <c>rlhf rm</c> and <c>rlhf dpo</c> read, with fields they ignore:
/// <code>{"prompt", "chosen", "rejected", "judge": "human", "labeller", "item", "shown_left": "chosen"|"rejected",
///  "ratings": {"chosen": {...}, "rejected": {...}}, "note", "shown_at", "labelled_at", "seconds", "seq"}</code>
/// A tie, both-bad or skip has no chosen and rejected response, so it goes to the side file as
/// <code>{"prompt", "response_a", "response_b", "label": "tie"|"both_bad"|"skip", "judge": "human", "labeller", "item",
///  "shown_left": "a"|"b", "ratings": {"a": {...}, "b": {...}}, "note", "shown_at", "labelled_at", "seconds", "seq"}</code>
/// Ratings and note are left out when not given; ratings hold the axes given, each 1–7.
/// </summary>
public static class LabelLine
{
    public const string JudgeName = "human";

    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The line (without its newline) for <paramref name="s"/> on <paramref name="item"/>, and the file it belongs in.</summary>
    public static (string Json, LabelFileKind Kind) Format(PairItem item, Submission s, long seq, DateTimeOffset labelledAt)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(s);
        var line = new JsonObject { ["prompt"] = PromptJson.Node(item.Prompt) };
        LabelFileKind kind;
        JsonObject? ratings = null;
        if (s.Preferred is { } winner)
        {
            kind = LabelFileKind.Preference;
            line["chosen"] = item.Text(winner);
            line["rejected"] = item.Text(Submission.Other(winner));
            line["judge"] = JudgeName;
            line["labeller"] = s.Labeller;
            line["item"] = item.Id;
            line["shown_left"] = s.Left == winner ? "chosen" : "rejected";
            ratings = RatingsJson(s.Left == winner ? ("chosen", s.LeftRatings, "rejected", s.RightRatings) : ("chosen", s.RightRatings, "rejected", s.LeftRatings));
        }
        else
        {
            kind = LabelFileKind.NoPreference;
            line["response_a"] = item.A;
            line["response_b"] = item.B;
            line["label"] = LabelNames.NoPreferenceLabel(s.Choice);
            line["judge"] = JudgeName;
            line["labeller"] = s.Labeller;
            line["item"] = item.Id;
            line["shown_left"] = LabelNames.Name(s.Left);
            ratings = RatingsJson(s.Left == Side.A ? ("a", s.LeftRatings, "b", s.RightRatings) : ("a", s.RightRatings, "b", s.LeftRatings));
        }
        if (ratings is not null)
            line["ratings"] = ratings;
        if (!string.IsNullOrEmpty(s.Note))
            line["note"] = s.Note;
        double seconds = Math.Round(Math.Max(0, s.Seconds), 3);
        line["shown_at"] = Timestamp(labelledAt - TimeSpan.FromSeconds(seconds));
        line["labelled_at"] = Timestamp(labelledAt);
        line["seconds"] = seconds;
        line["seq"] = seq;
        return (line.ToJsonString(Compact), kind);
    }

    private static JsonObject? RatingsJson((string NameX, Ratings? X, string NameY, Ratings? Y) r)
    {
        var o = new JsonObject();
        if (r.X is { IsEmpty: false } x)
            o[r.NameX] = x.ToJson();
        if (r.Y is { IsEmpty: false } y)
            o[r.NameY] = y.ToJson();
        return o.Count == 0 ? null : o;
    }

    private static string Timestamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Reads one line of a labelling file of kind <paramref name="kind"/>; errors name the file, line and field.</summary>
    internal static LabelRecord Parse(JsonElement line, LineContext context, LabelFileKind kind)
    {
        const string whose = "a labelling file holds the lines `rlhf label --judge human` writes";
        var prompt = JsonFields.Prompt(JsonFields.Require(line, "prompt", context, whose), "prompt", context);
        var labeller = JsonFields.String(JsonFields.Require(line, "labeller", context, whose), "labeller", context);
        var seqValue = JsonFields.Require(line, "seq", context, whose);
        if (seqValue.ValueKind != JsonValueKind.Number || !seqValue.TryGetInt64(out long seq))
            throw context.Error(DataErrorKind.WrongType, "seq", $"expected an integer, found {JsonFields.Describe(seqValue)}.");
        double seconds = line.TryGetProperty("seconds", out var sec) && sec.ValueKind == JsonValueKind.Number ? sec.GetDouble() : 0;
        DateTimeOffset? at = line.TryGetProperty("labelled_at", out var la) && la.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(la.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed) ? parsed : null;
        var shownLeft = JsonFields.String(JsonFields.Require(line, "shown_left", context, whose), "shown_left", context);

        if (kind == LabelFileKind.Preference)
        {
            var chosen = JsonFields.String(JsonFields.Require(line, "chosen", context, whose), "chosen", context);
            var rejected = JsonFields.String(JsonFields.Require(line, "rejected", context, whose), "rejected", context);
            if (shownLeft is not ("chosen" or "rejected"))
                throw context.Error(DataErrorKind.WrongType, "shown_left", $"expected \"chosen\" or \"rejected\", found \"{shownLeft}\".");
            if (string.Equals(chosen, rejected, StringComparison.Ordinal))
                throw context.Error(DataErrorKind.IdenticalResponses, "rejected", "is identical to \"chosen\"; a preference needs two different responses.");
            bool chosenLeft = shownLeft == "chosen";
            return new LabelRecord(PairItem.ComputeId(prompt, chosen, rejected), labeller,
                chosenLeft ? HumanChoice.Left : HumanChoice.Right,
                PairItem.IsFirstInOrder(chosen, rejected) ? Judgement.First : Judgement.Second,
                chosenLeft ? chosen : rejected, seq, seconds, at, kind);
        }

        var a = JsonFields.String(JsonFields.Require(line, "response_a", context, whose), "response_a", context);
        var b = JsonFields.String(JsonFields.Require(line, "response_b", context, whose), "response_b", context);
        var label = JsonFields.String(JsonFields.Require(line, "label", context, whose), "label", context);
        if (!LabelNames.TryParseChoice(label, out var choice) || choice is HumanChoice.Left or HumanChoice.Right)
            throw context.Error(DataErrorKind.WrongType, "label", $"expected \"tie\", \"both_bad\" or \"skip\", found \"{label}\".");
        if (!LabelNames.TryParseSide(shownLeft, out var left))
            throw context.Error(DataErrorKind.WrongType, "shown_left", $"expected \"a\" or \"b\", found \"{shownLeft}\".");
        Judgement? judgement = choice switch
        {
            HumanChoice.Tie => Human.Judgement.Tie,
            HumanChoice.BothBad => Human.Judgement.BothBad,
            _ => null,
        };
        return new LabelRecord(PairItem.ComputeId(prompt, a, b), labeller, choice, judgement, left == Side.A ? a : b, seq, seconds, at, kind);
    }
}
