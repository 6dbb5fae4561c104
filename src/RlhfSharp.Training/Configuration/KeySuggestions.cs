namespace RlhfSharp.Training.Configuration;

/// <summary>"Did you mean" for unknown keys and flags: the closest valid key by edit distance, if close enough.</summary>
public static class KeySuggestions
{
    /// <summary>The valid key nearest to <paramref name="unknown"/>, or null when none is plausibly meant.</summary>
    public static string? Closest(string unknown, IEnumerable<string> valid)
    {
        string wanted = Normalize(unknown);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string key in valid)
        {
            int distance = Distance(wanted, Normalize(key));
            if (distance < bestDistance)
            {
                best = key;
                bestDistance = distance;
            }
        }
        int allowed = Math.Max(2, wanted.Length / 3);
        return bestDistance <= allowed ? best : null;
    }

    /// <summary>Hyphens and underscores, and letter case, are not differences worth an edit.</summary>
    private static string Normalize(string key) => key.Replace('-', '_').ToLowerInvariant();

    /// <summary>Levenshtein distance with adjacent transpositions counted as one edit.</summary>
    public static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }
        for (int j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int best = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    best = Math.Min(best, d[i - 2, j - 2] + 1);
                }
                d[i, j] = best;
            }
        }
        return d[a.Length, b.Length];
    }
}
