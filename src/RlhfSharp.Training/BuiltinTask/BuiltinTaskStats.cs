using System.Text;
using System.Text.Json;

namespace RlhfSharp.Training.BuiltinTask;

/// <summary>Writes stats.json: the marker <see cref="GoldScorer.TryCreate"/> looks for, the counts, the stated and realised mixture, τ and the measured label agreement.</summary>
internal static class BuiltinTaskStats
{
    public const string GoldFormula =
        "gold = correctness + politeness + concision; correctness = +1 if the extracted answer is right else -1; "
        + "politeness = max(-1, -0.5 * banned words); concision = max(-0.5, -0.05 * max(0, words - (3 + answer words)))";

    public static string ToJson(BuiltinTaskData data, int vocabSize)
    {
        var o = data.Options;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JsonLines.Options.Encoder }))
        {
            w.WriteStartObject();
            w.WriteString("task", GoldScorer.TaskMarker);
            w.WriteNumber("seed", o.Seed);
            w.WriteString("chat_template", BuiltinTaskTokenizer.ChatTemplateName);

            w.WriteStartObject("counts");
            w.WriteNumber("sft_train", data.SftTrain.Count);
            w.WriteNumber("sft_eval", data.SftEval.Count);
            w.WriteNumber("prefs_train", data.PrefsTrain.Count);
            w.WriteNumber("prefs_eval", data.PrefsEval.Count);
            w.WriteNumber("prompts_train", data.TrainPrompts.Count);
            w.WriteNumber("prompts_eval", data.EvalPrompts.Count);
            w.WriteNumber("prompts_arithmetic_train", BuiltinTaskGenerator.ArithmeticOnly(data.TrainPrompts).Count);
            w.WriteNumber("prompts_arithmetic_eval", BuiltinTaskGenerator.ArithmeticOnly(data.EvalPrompts).Count);
            w.WriteEndObject();

            w.WriteStartObject("skills");
            WriteSkillCounts(w, "train", data.TrainPrompts);
            WriteSkillCounts(w, "eval", data.EvalPrompts);
            w.WriteEndObject();

            w.WriteStartObject("style_fractions");
            foreach (var s in Enum.GetValues<ResponseStyle>()) w.WriteNumber(Name(s), o.StyleFractions[(int)s]);
            w.WriteEndObject();
            w.WriteStartObject("sft_train_style_counts");
            foreach (var s in Enum.GetValues<ResponseStyle>()) w.WriteNumber(Name(s), data.SftTrain.Count(d => d.Style == s));
            w.WriteEndObject();
            w.WriteStartObject("average_gold_by_style");
            foreach (var s in Enum.GetValues<ResponseStyle>()) WriteRounded(w, Name(s), data.AverageGold(s));
            w.WriteEndObject();

            w.WriteStartObject("preferences");
            w.WriteNumber("tau", o.Tau);
            w.WriteString("label_model", "P(A chosen) = sigmoid((gold_A - gold_B) / tau)");
            WriteRounded(w, "agreement_measured", data.MeasuredAgreement);
            WriteRounded(w, "agreement_expected", data.ExpectedAgreement);
            w.WriteNumber("ties_redrawn", data.TiesRedrawn);
            w.WriteString("ties", "pairs with equal gold scores or identical texts are redrawn");
            w.WriteString("eval_labels", "noise-free gold preference");
            w.WriteEndObject();

            w.WriteString("gold_score", GoldFormula);

            w.WriteStartObject("tokenizer");
            w.WriteNumber("vocab_size", vocabSize);
            w.WriteNumber("vocab_size_target", o.TokenizerVocabSize);
            w.WriteString("bos_token", BuiltinTaskTokenizer.BosToken);
            w.WriteString("eos_token", BuiltinTaskTokenizer.EosToken);
            w.WriteString("pad_token", BuiltinTaskTokenizer.PadToken);
            w.WriteStartArray("special_tokens");
            foreach (var t in BuiltinTaskTokenizer.SpecialTokens) w.WriteStringValue(t);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    public static string Name(ResponseStyle s) => s.ToString().ToLowerInvariant();

    public static string Name(Skill s) => s.ToString().ToLowerInvariant();

    private static void WriteSkillCounts(Utf8JsonWriter w, string name, IReadOnlyList<string> prompts)
    {
        w.WriteStartObject(name);
        foreach (var s in Enum.GetValues<Skill>()) w.WriteNumber(Name(s), prompts.Count(p => TaskPrompts.Parse(p).Skill == s));
        w.WriteEndObject();
    }

    private static void WriteRounded(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsNaN(value)) w.WriteNull(name);
        else w.WriteNumber(name, Math.Round(value, 4));
    }
}
