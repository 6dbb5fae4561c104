namespace RlhfSharp.Training.Metrics;

/// <summary>
/// Encodes the <c>tensorboard.Event</c> messages the sink writes (field numbers from TensorBoard's
/// <c>event.proto</c>, <c>summary.proto</c>, <c>tensor.proto</c> and <c>tensor_shape.proto</c>).
/// </summary>
internal static class TensorBoardEvents
{
    public const string FileVersion = "brain.Event:2";

    // Event
    private const int EventWallTime = 1;      // double
    private const int EventStep = 2;          // int64
    private const int EventFileVersion = 3;   // string
    private const int EventSummary = 5;       // Summary
    private const int EventSessionLog = 7;    // SessionLog

    // SessionLog
    private const int SessionLogStatus = 1;   // enum SessionStatus
    private const int SessionStatusStart = 1;

    // Summary and Summary.Value
    private const int SummaryValue = 1;       // repeated Value
    private const int ValueTag = 1;           // string
    private const int ValueSimpleValue = 2;   // float
    private const int ValueTensor = 8;        // TensorProto
    private const int ValueMetadata = 9;      // SummaryMetadata

    // SummaryMetadata and PluginData
    private const int MetadataPluginData = 1;
    private const int MetadataDataClass = 4;  // enum DataClass
    private const int DataClassTensor = 2;
    private const int PluginName = 1;         // string
    public const string TextPluginName = "text";

    // TensorProto, TensorShapeProto, Dim
    private const int TensorDtype = 1;        // enum DataType
    private const int DtString = 7;
    private const int TensorShape = 2;
    private const int TensorStringVal = 8;    // repeated bytes
    private const int ShapeDim = 2;
    private const int DimSize = 1;

    /// <summary>The first record of every event file: <c>Event{wall_time, file_version: "brain.Event:2"}</c>.</summary>
    public static ProtoWriter FileVersionEvent(double wallTime) =>
        new ProtoWriter().Double(EventWallTime, wallTime).String(EventFileVersion, FileVersion);

    /// <summary>
    /// <c>Event{wall_time, step, session_log{status: START}}</c>, written at the start of every file. TensorBoard's
    /// Python event accumulator treats every START after a run's first as a restart and drops the points it
    /// has read at or after <paramref name="step"/>; its Rust data server drops them anyway when a step repeats.
    /// </summary>
    public static ProtoWriter SessionStartEvent(double wallTime, long step) =>
        new ProtoWriter().Double(EventWallTime, wallTime).Int64(EventStep, step)
            .Message(EventSessionLog, new ProtoWriter().Int64(SessionLogStatus, SessionStatusStart));

    /// <summary><c>Event{wall_time, step, summary{value[]{tag, simple_value}}}</c>; values are stored as float32.</summary>
    public static ProtoWriter ScalarsEvent(double wallTime, long step, IReadOnlyDictionary<string, double> scalars)
    {
        var summary = new ProtoWriter();
        foreach (var (tag, value) in scalars)
            summary.Message(SummaryValue, new ProtoWriter().String(ValueTag, tag).Float(ValueSimpleValue, (float)value));
        return SummaryEvent(wallTime, step, summary);
    }

    /// <summary>
    /// A text summary as TensorBoard's text plugin reads it: a string tensor of shape [1] with metadata
    /// naming the "text" plugin (empty plugin content, i.e. <c>TextPluginData{version: 0}</c>).
    /// </summary>
    public static ProtoWriter TextEvent(double wallTime, long step, string tag, string text)
    {
        var metadata = new ProtoWriter()
            .Message(MetadataPluginData, new ProtoWriter().String(PluginName, TextPluginName))
            .Int64(MetadataDataClass, DataClassTensor);
        var tensor = new ProtoWriter()
            .Int64(TensorDtype, DtString)
            .Message(TensorShape, new ProtoWriter().Message(ShapeDim, new ProtoWriter().Int64(DimSize, 1)))
            .String(TensorStringVal, text);
        var value = new ProtoWriter().String(ValueTag, tag).Message(ValueMetadata, metadata).Message(ValueTensor, tensor);
        return SummaryEvent(wallTime, step, new ProtoWriter().Message(SummaryValue, value));
    }

    private static ProtoWriter SummaryEvent(double wallTime, long step, ProtoWriter summary) =>
        new ProtoWriter().Double(EventWallTime, wallTime).Int64(EventStep, step).Message(EventSummary, summary);
}
