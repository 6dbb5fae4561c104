namespace RlhfSharp.Text.Loading;

/// <summary>Reads tokenizer files, turning I/O failures into <see cref="TokenizerFormatException"/>.</summary>
internal static class TokenizerFiles
{
    public static string ReadText(string path, string whatItIs)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return File.ReadAllText(path);
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
