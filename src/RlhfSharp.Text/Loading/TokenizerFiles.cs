namespace RlhfSharp.Text.Loading;

/// <summary>Reads tokenizer files, turning I/O failures into <see cref="TokenizerFormatException"/>.</summary>
internal static class TokenizerFiles
{
    public static string ReadText(string path, string whatItIs)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (!System.Text.Unicode.Utf8.IsValid(bytes) && JsonUnicode.Find(bytes) is { } bad)
                throw new TokenizerFormatException(path, $"line {bad.Line}, byte {bad.ByteInLine}", $"{bad.Reason}; expected {whatItIs}");
            return JsonUnicode.Decode(bytes);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TokenizerFormatException(path, "(file)", $"file not found; expected {whatItIs} here", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new TokenizerFormatException(path, "(file)", $"cannot be read ({e.Message}); expected {whatItIs}", e);
        }
    }
}
