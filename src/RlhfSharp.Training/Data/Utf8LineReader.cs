namespace RlhfSharp.Training.Data;

/// <summary>
/// Splits a byte stream into lines at '\n' (a trailing '\r' is dropped, as is a UTF-8 byte-order
/// mark at the start), without decoding, so an invalid byte sequence can be reported on its own line.
/// </summary>
internal static class Utf8LineReader
{
    public static IEnumerable<(int Line, byte[] Bytes)> ReadLines(Stream stream)
    {
        var buffer = new byte[1 << 16];
        using var pending = new MemoryStream();
        int lineNumber = 0;
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            int pos = 0;
            while (pos < read)
            {
                int newline = buffer.AsSpan(pos, read - pos).IndexOf((byte)'\n');
                if (newline < 0)
                {
                    pending.Write(buffer, pos, read - pos);
                    break;
                }
                pending.Write(buffer, pos, newline);
                pos += newline + 1;
                lineNumber++;
                yield return (lineNumber, TakeLine(pending, lineNumber));
            }
        }
        if (pending.Length > 0)
        {
            lineNumber++;
            yield return (lineNumber, TakeLine(pending, lineNumber));
        }
    }

    private static byte[] TakeLine(MemoryStream pending, int lineNumber)
    {
        var span = pending.GetBuffer().AsSpan(0, (int)pending.Length);
        if (lineNumber == 1 && span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) span = span[3..];
        if (span.Length > 0 && span[^1] == (byte)'\r') span = span[..^1];
        var line = span.ToArray();
        pending.SetLength(0);
        return line;
    }
}
