using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Parquet.Schema;

namespace RlhfSharp.Training.Data;

/// <summary>
/// Writes a Parquet row, as the untyped reader assembles it, as the JSON object a JSONL line with
/// the same columns would hold, so that one parser per data format serves both file kinds:
/// a column is a field, a <c>list&lt;struct&lt;content: string, role: string&gt;&gt;</c> is a list of
/// message objects, and a null (which the reader leaves out of the row) is <c>null</c>. Text
/// stored as plain binary (<c>BYTE_ARRAY</c> without the string annotation) is read as UTF-8.
/// </summary>
internal static class ParquetJson
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = false };

    /// <summary>
    /// The row as JSON bytes. Throws <see cref="DataFormatException"/> (with <paramref name="context"/>)
    /// for binary text that is not UTF-8 or text that is not valid Unicode.
    /// </summary>
    public static byte[] Row(IReadOnlyList<Field> columns, IDictionary<string, object> values, LineContext context)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            writer.WriteStartObject();
            foreach (var column in columns)
            {
                writer.WritePropertyName(column.Name);
                Value(writer, column, values.TryGetValue(column.Name, out var value) ? value : null, column.Name, context);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A column's type as Arrow and Hugging Face print it: <c>string</c>, <c>int64</c>, <c>list&lt;struct&lt;content: string, role: string&gt;&gt;</c>.</summary>
    public static string TypeName(Field field) => field switch
    {
        ListField list => $"list<{TypeName(list.Item)}>",
        StructField s => $"struct<{string.Join(", ", s.Fields.Select(f => $"{f.Name}: {TypeName(f)}"))}>",
        MapField map => $"map<{TypeName(map.Key)}, {TypeName(map.Value)}>",
        DataField data when data.IsArray => $"list<{ScalarName(data.ClrType)}>",
        DataField data => ScalarName(data.ClrType),
        _ => field.SchemaType.ToString().ToLowerInvariant(),
    };

    private static string ScalarName(Type type) => (Nullable.GetUnderlyingType(type) ?? type) switch
    {
        var t when t == typeof(string) || t == typeof(ReadOnlyMemory<char>) => "string",
        var t when t == typeof(byte[]) || t == typeof(ReadOnlyMemory<byte>) => "binary",
        var t when t == typeof(bool) => "bool",
        var t when t == typeof(sbyte) => "int8",
        var t when t == typeof(byte) => "uint8",
        var t when t == typeof(short) => "int16",
        var t when t == typeof(ushort) => "uint16",
        var t when t == typeof(int) => "int32",
        var t when t == typeof(uint) => "uint32",
        var t when t == typeof(long) => "int64",
        var t when t == typeof(ulong) => "uint64",
        var t when t == typeof(float) => "float",
        var t when t == typeof(double) => "double",
        var t => t.Name.ToLowerInvariant(),
    };

    private static void Value(Utf8JsonWriter writer, Field field, object? value, string path, LineContext context)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                return;
            case IDictionary<string, object> record when field is StructField structField:
                writer.WriteStartObject();
                foreach (var child in structField.Fields)
                {
                    writer.WritePropertyName(child.Name);
                    Value(writer, child, record.TryGetValue(child.Name, out var v) ? v : null, $"{path}.{child.Name}", context);
                }
                writer.WriteEndObject();
                return;
            case IDictionary map:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in map)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    Value(writer, Child(field, value: true), entry.Value, path, context);
                }
                writer.WriteEndObject();
                return;
            case string text:
                Text(writer, text, path, context);
                return;
            case ReadOnlyMemory<char> chars:
                Text(writer, chars.ToString(), path, context);
                return;
            case byte[] bytes:
                Binary(writer, bytes, path, context);
                return;
            case ReadOnlyMemory<byte> memory:
                Binary(writer, memory.ToArray(), path, context);
                return;
            case IEnumerable items:
                writer.WriteStartArray();
                int i = 0;
                foreach (var item in items)
                    Value(writer, Child(field, value: false), item, $"{path}[{i++}]", context);
                writer.WriteEndArray();
                return;
            default:
                Scalar(writer, value);
                return;
        }
    }

    /// <summary>The field of a list's elements or a map's values.</summary>
    private static Field Child(Field field, bool value) => field switch
    {
        ListField list => list.Item,
        MapField map when value => map.Value,
        _ => field,
    };

    private static void Text(Utf8JsonWriter writer, string text, string path, LineContext context)
    {
        try
        {
            writer.WriteStringValue(text);
        }
        catch (ArgumentException)
        {
            throw context.Error(DataErrorKind.InvalidEncoding, path, "holds text that is not valid Unicode (an unpaired surrogate); write the column as UTF-8 text.");
        }
    }

    private static void Binary(Utf8JsonWriter writer, byte[] bytes, string path, LineContext context)
    {
        if (!Utf8.IsValid(bytes))
            throw context.Error(DataErrorKind.InvalidEncoding, path,
                "is a binary value that is not UTF-8 text; text columns must be UTF-8 (a string column, or binary holding UTF-8).");
        writer.WriteStringValue(bytes);
    }

    private static void Scalar(Utf8JsonWriter writer, object value)
    {
        switch (value)
        {
            case bool b: writer.WriteBooleanValue(b); break;
            case sbyte or byte or short or ushort or int: writer.WriteNumberValue(Convert.ToInt32(value, CultureInfo.InvariantCulture)); break;
            case uint u: writer.WriteNumberValue(u); break;
            case long l: writer.WriteNumberValue(l); break;
            case ulong ul: writer.WriteNumberValue(ul); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case float f when float.IsFinite(f): writer.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case DateTime t: writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture)); break;
            case DateTimeOffset t: writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture)); break;
            case IFormattable formattable: writer.WriteStringValue(formattable.ToString(null, CultureInfo.InvariantCulture)); break;
            default: writer.WriteStringValue(value.ToString()); break;
        }
    }
}
