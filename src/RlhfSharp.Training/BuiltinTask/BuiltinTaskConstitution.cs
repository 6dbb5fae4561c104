namespace RlhfSharp.Training.BuiltinTask;

/// <summary>The built-in task's constitution, the principles the AI labeller (judge: constitution) checks.</summary>
public static class BuiltinTaskConstitution
{
    /// <summary>The constitution written into the built-in task's folder: polite, concise, an answer given, no hedging.</summary>
    public const string Yaml = """
        # What the AI labeller checks, in the spirit of a constitution: each principle is a rule a
        # response keeps or breaks, and its weight is what keeping it is worth.
        principles:
          - name: polite
            rule: forbid_words
            words: [idiot, stupid, dumb, duh, ugh, whatever, obviously]
            weight: 2
          - name: concise
            rule: max_words
            value: 6
            weight: 1
          - name: gives_an_answer
            rule: require_regex
            pattern: '(?i)^(the answer is )?[a-z0-9 ]+\.$'
            weight: 1
        """;
}
