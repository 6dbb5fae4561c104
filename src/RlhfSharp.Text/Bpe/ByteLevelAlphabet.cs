namespace RlhfSharp.Text.Bpe;

/// <summary>
/// GPT-2's reversible map from the 256 byte values to printable characters ("bytes_to_unicode"):
/// printable Latin-1 bytes map to themselves, the other 68 to U+0100 onwards in byte order, so a
/// space becomes 'Ġ' and a newline 'Ċ'. Byte-level vocabularies are written in these characters.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToCharTable = BuildByteToChar();
    private static readonly short[] CharToByteTable = BuildCharToByte();

    /// <summary>The character that stands for byte <paramref name="b"/>.</summary>
    public static char ByteToChar(byte b) => ByteToCharTable[b];

    /// <summary>The byte a character stands for, or -1 when it is not one of the 256.</summary>
    public static int CharToByte(char c) => c < CharToByteTable.Length ? CharToByteTable[c] : -1;

    /// <summary>The byte-level spelling of <paramref name="bytes"/>.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dest, src) =>
        {
            for (int i = 0; i < src.Length; i++) dest[i] = ByteToCharTable[src[i]];
        });
    }

    /// <summary>
    /// Appends the bytes a byte-level token spells. A token with a character outside the
    /// alphabet (an added token like "&lt;|im_end|&gt;" is fine; one like "中" is not) is taken as
    /// plain text and appended as UTF-8, as tokenizers' ByteLevel decoder does.
    /// </summary>
    public static void AppendBytes(string token, List<byte> output)
    {
        foreach (char c in token)
        {
            if (CharToByte(c) < 0)
            {
                output.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
                return;
            }
        }
        foreach (char c in token) output.Add((byte)CharToByte(c));
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        int extra = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)(256 + extra++);
        }
        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[512];
        Array.Fill(table, (short)-1);
        for (int b = 0; b < 256; b++) table[ByteToCharTable[b]] = (short)b;
        return table;
    }
}
