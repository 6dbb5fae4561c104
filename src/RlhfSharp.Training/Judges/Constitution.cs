using System.Globalization;
using System.Text.RegularExpressions;
using RlhfSharp.Training.Configuration;
using RlhfSharp.Training.Rewards;

namespace RlhfSharp.Training.Judges;

/// <summary>How a principle checks a response.</summary>
public enum PrincipleRule
{
    /// <summary>At most <c>value</c> whitespace-separated words.</summary>
    MaxWords,

    /// <summary>No word starting with any of <c>words</c> (case-insensitive).</summary>
    ForbidWords,

    /// <summary>The regex <c>pattern</c> matches somewhere.</summary>
    RequireRegex,

    /// <summary>The regex <c>pattern</c> matches nowhere.</summary>
    ForbidRegex,
}

/// <summary>One checkable principle of a constitution with its weight.</summary>
public sealed record Principle(string Name, double Weight, PrincipleRule Rule, int MaxWords, IReadOnlyList<string> Words, Regex? Pattern)
{
    public bool Holds(string response) => Rule switch
    {
        PrincipleRule.MaxWords => response.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length <= MaxWords,
        PrincipleRule.ForbidWords => !Regex.Split(response.ToLowerInvariant(), @"[^\p{L}\p{N}']+").Any(w => w.Length > 0 && Words.Any(b => w.StartsWith(b, StringComparison.Ordinal))),
        PrincipleRule.RequireRegex => Pattern!.IsMatch(response),
        _ => !Pattern!.IsMatch(response),
    };
}

/// <summary>A constitution file or its content is not what the loader expects.</summary>
public sealed class ConstitutionException(string message) : Exception(message), IUserError;

/// <summary>
/// A constitution (Bai et al. 2022, "Constitutional AI"), made checkable: a YAML list of principles,
/// each a rule with a weight. A response scores the summed weights of the principles it keeps; as a
/// reward source it is that score, as a judge it prefers the higher-scoring response.
/// <code>
/// principles:
///   - name: polite
///     rule: forbid_words        # max_words (value), forbid_words (words), require_regex / forbid_regex (pattern)
///     words: [idiot, stupid]
///     weight: 2
/// </code>
/// </summary>
public sealed class Constitution : IRewardSource
{
    private static readonly string[] Keys = ["name", "rule", "weight", "value", "words", "pattern"];

    public Constitution(IReadOnlyList<Principle> principles, string name = "constitution")
    {
        ArgumentNullException.ThrowIfNull(principles);
        if (principles.Count == 0)
            throw new ConstitutionException("a constitution needs at least one principle");
        Principles = principles;
        Name = name;
    }

    public string Name { get; }

    public IReadOnlyList<Principle> Principles { get; }

    /// <summary>The summed weights of the principles <paramref name="response"/> keeps.</summary>
    public double ScoreOne(string response) => Principles.Where(p => p.Holds(response)).Sum(p => p.Weight);

    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentNullException.ThrowIfNull(responses);
        if (prompts.Count != responses.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses; expected one response per prompt.", nameof(responses));
        return [.. responses.Select(ScoreOne)];
    }

    public static Constitution Load(string path)
    {
        if (!File.Exists(path))
            throw new ConstitutionException($"{path}: constitution file not found");
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses constitution YAML; errors name the source, line and key and say what is expected.</summary>
    public static Constitution Parse(string yaml, string sourceName)
    {
        YamlNode? root;
        try
        {
            root = YamlDocumentReader.Read(yaml, new YamlSource(sourceName, HasLines: true));
        }
        catch (ConfigException e)
        {
            throw new ConstitutionException($"{sourceName}: not valid YAML: {e.Message}");
        }
        if (root is not YamlMapping map || map.Entries.FirstOrDefault(e => e.Key.Text == "principles").Value is not YamlSequence list)
            throw new ConstitutionException($"{sourceName}: expected a mapping with a 'principles' list");
        var principles = new List<Principle>();
        foreach (var item in list.Items)
        {
            if (item is not YamlMapping p)
                throw new ConstitutionException($"{item.Location}: each principle must be a mapping with name, rule and weight");
            string Text(string key, bool required = true)
            {
                var node = p.Entries.FirstOrDefault(e => e.Key.Text == key).Value;
                if (node is YamlScalar s && !s.IsNull)
                    return s.Text;
                if (node is null && !required)
                    return "";
                throw new ConstitutionException($"{(node ?? p).Location}: principle key '{key}' must be {(node is null ? "present" : "a plain value")}");
            }
            foreach (var (key, _) in p.Entries)
                if (!Keys.Contains(key.Text))
                    throw new ConstitutionException($"{key.Location}: unknown principle key '{key.Text}'; valid keys: {string.Join(", ", Keys)}");
            string name = Text("name");
            string ruleText = Text("rule");
            var rule = ruleText switch
            {
                "max_words" => PrincipleRule.MaxWords,
                "forbid_words" => PrincipleRule.ForbidWords,
                "require_regex" => PrincipleRule.RequireRegex,
                "forbid_regex" => PrincipleRule.ForbidRegex,
                _ => throw new ConstitutionException($"{p.Location}: principle '{name}': rule '{ruleText}' is unknown; use max_words, forbid_words, require_regex or forbid_regex"),
            };
            string weightText = Text("weight", required: false);
            double weight = 1;
            if (weightText.Length > 0 && !double.TryParse(weightText, NumberStyles.Float, CultureInfo.InvariantCulture, out weight))
                throw new ConstitutionException($"{p.Location}: principle '{name}': weight '{weightText}' is not a number");
            int maxWords = 0;
            var words = new List<string>();
            Regex? pattern = null;
            switch (rule)
            {
                case PrincipleRule.MaxWords:
                    if (!int.TryParse(Text("value"), NumberStyles.Integer, CultureInfo.InvariantCulture, out maxWords) || maxWords < 0)
                        throw new ConstitutionException($"{p.Location}: principle '{name}': max_words needs 'value', a whole number >= 0");
                    break;
                case PrincipleRule.ForbidWords:
                    if (p.Entries.FirstOrDefault(e => e.Key.Text == "words").Value is not YamlSequence ws || ws.Items.Count == 0 || ws.Items.Any(w => w is not YamlScalar))
                        throw new ConstitutionException($"{p.Location}: principle '{name}': forbid_words needs 'words', a non-empty list such as [idiot, stupid]");
                    words.AddRange(ws.Items.Cast<YamlScalar>().Select(w => w.Text.ToLowerInvariant()));
                    break;
                default:
                    string text = Text("pattern");
                    try
                    {
                        pattern = new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
                    }
                    catch (ArgumentException e)
                    {
                        throw new ConstitutionException($"{p.Location}: principle '{name}': pattern is not a valid regex ({e.Message})");
                    }
                    break;
            }
            principles.Add(new Principle(name, weight, rule, maxWords, words, pattern));
        }
        return new Constitution(principles);
    }
}
