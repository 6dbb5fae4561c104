using System.Globalization;
using System.Text;

namespace RlhfSharp.Text.Normalization;

/// <summary>The decomposition, combining-class and composition tables, parsed from the embedded data file.</summary>
internal sealed class UnicodeNormalizationTables
{
    public Dictionary<int, int[]> Canonical { get; } = [];
    public Dictionary<int, int[]> Compatibility { get; } = [];
    public Dictionary<long, int> Pairs { get; } = [];
    public HashSet<int> Composites { get; } = [];
    public HashSet<int> ComposesAsSecond { get; } = [];
    private readonly Dictionary<int, byte> _combiningClass = [];

    public int CombiningClass(int cp) => cp < 0x300 ? 0 : _combiningClass.GetValueOrDefault(cp);

    public static UnicodeNormalizationTables Load()
    {
        var t = new UnicodeNormalizationTables();
        using var stream = typeof(UnicodeNormalizationTables).Assembly
            .GetManifestResourceStream("RlhfSharp.Text.UnicodeNormalizationData.txt")
            ?? throw new InvalidOperationException("The embedded Unicode normalization data is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(' ');
            int Hex(int i) => int.Parse(f[i], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            int[] Seq() => [.. Enumerable.Range(2, f.Length - 2).Select(Hex)];
            switch (f[0])
            {
                case "C":
                    byte cc = byte.Parse(f[3], CultureInfo.InvariantCulture);
                    for (int cp = Hex(1); cp <= Hex(2); cp++) t._combiningClass[cp] = cc;
                    break;
                case "D": t.Canonical[Hex(1)] = Seq(); break;
                case "K": t.Compatibility[Hex(1)] = Seq(); break;
                case "P":
                    t.Pairs[((long)Hex(1) << 21) | (uint)Hex(2)] = Hex(3);
                    t.Composites.Add(Hex(3));
                    t.ComposesAsSecond.Add(Hex(2));
                    break;
            }
        }
        // Hangul vowels and trailing consonants compose with a preceding syllable or leading consonant.
        for (int cp = 0x1161; cp < 0x1161 + 21; cp++) t.ComposesAsSecond.Add(cp);
        for (int cp = 0x11A8; cp < 0x11A7 + 28; cp++) t.ComposesAsSecond.Add(cp);
        return t;
    }
}
