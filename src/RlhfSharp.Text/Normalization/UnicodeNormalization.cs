using System.Globalization;
using System.Text;

namespace RlhfSharp.Text.Normalization;

/// <summary>
/// Unicode normalization forms C, D, KC and KD (UAX #15) from embedded Unicode Character
/// Database tables. The runtime's <see cref="string.Normalize()"/> needs ICU and silently does
/// nothing in globalization-invariant mode, and its results vary with the installed ICU; these
/// tables give the same answer on every machine.
/// </summary>
internal static class UnicodeNormalization
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<UnicodeNormalizationTables> LazyTables = new(UnicodeNormalizationTables.Load);

    public static string Normalize(string text, NormalizationForm form)
    {
        if (text.Length == 0) return text;
        var t = LazyTables.Value;
        bool compat = form is NormalizationForm.FormKC or NormalizationForm.FormKD;
        bool compose = form is NormalizationForm.FormC or NormalizationForm.FormKC;
        if (IsStable(text, t, compat, compose)) return text;

        var cps = new List<int>(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                cp = char.ConvertToUtf32(text[i], text[++i]);
            Decompose(cp, compat, t, cps);
        }
        CanonicalOrder(cps, t);
        if (compose) Compose(cps, t);

        var sb = new StringBuilder(cps.Count + 8);
        foreach (int cp in cps)
        {
            if (cp is >= 0xD800 and <= 0xDFFF) sb.Append((char)cp); // keep lone surrogates as they were
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    private static bool IsStable(string text, UnicodeNormalizationTables t, bool compat, bool compose)
    {
        for (int i = 0; i < text.Length; i++)
        {
            int cp = text[i];
            if (cp < 0x300) // no combining marks here; only Latin-1 compatibility characters and precomposed letters
            {
                if (cp < 0xA0) continue;
                if (compat && t.Compatibility.ContainsKey(cp)) return false;
                if (!compose && t.Canonical.ContainsKey(cp)) return false;
                continue;
            }
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                cp = char.ConvertToUtf32(text[i], text[++i]);
            if (t.CombiningClass(cp) != 0) return false;
            if (compat && t.Compatibility.ContainsKey(cp)) return false;
            if (cp is >= SBase and < SBase + SCount)
            {
                if (!compose) return false;
                continue;
            }
            if (compose)
            {
                if (t.ComposesAsSecond.Contains(cp)) return false;
                if (t.Canonical.ContainsKey(cp) && !t.Composites.Contains(cp)) return false;
            }
            else if (t.Canonical.ContainsKey(cp)) return false;
        }
        return true;
    }

    private static void Decompose(int cp, bool compat, UnicodeNormalizationTables t, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (compat && t.Compatibility.TryGetValue(cp, out var k)) output.AddRange(k);
        else if (t.Canonical.TryGetValue(cp, out var d)) output.AddRange(d);
        else output.Add(cp);
    }

    /// <summary>Stable sort of every run of non-starters by canonical combining class.</summary>
    private static void CanonicalOrder(List<int> cps, UnicodeNormalizationTables t)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int cc = t.CombiningClass(cps[i]);
            if (cc == 0) continue;
            int j = i;
            int cp = cps[i];
            while (j > 0 && t.CombiningClass(cps[j - 1]) > cc)
            {
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    /// <summary>Canonical composition (UAX #15, section 3.11), in place.</summary>
    private static void Compose(List<int> cps, UnicodeNormalizationTables t)
    {
        if (cps.Count < 2) return;
        int starterIndex = 0;
        int starter = cps[0];
        int lastClass = t.CombiningClass(starter);
        if (lastClass != 0) lastClass = 256; // a leading non-starter blocks composition with it
        int outLength = 1;
        for (int i = 1; i < cps.Count; i++)
        {
            int ch = cps[i];
            int cc = t.CombiningClass(ch);
            int composite = ComposePair(starter, ch, t);
            if (composite >= 0 && (lastClass < cc || lastClass == 0))
            {
                cps[starterIndex] = composite;
                starter = composite;
                continue;
            }
            if (cc == 0)
            {
                starterIndex = outLength;
                starter = ch;
            }
            lastClass = cc;
            cps[outLength++] = ch;
        }
        cps.RemoveRange(outLength, cps.Count - outLength);
    }

    private static int ComposePair(int first, int second, UnicodeNormalizationTables t)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
            return SBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0
            && second is > TBase and < TBase + TCount)
            return first + (second - TBase);
        return t.Pairs.TryGetValue(((long)first << 21) | (uint)second, out int c) ? c : -1;
    }
}
