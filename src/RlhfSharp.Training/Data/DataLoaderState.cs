namespace RlhfSharp.Training.Data;

/// <summary>
/// Where a <see cref="DataLoader{T}"/> stands, for checkpoints: restoring it makes the loader
/// yield exactly the batches the uninterrupted run would have. Plain values, so it serializes
/// with System.Text.Json as is.
/// </summary>
/// <param name="Epoch">The current epoch, from 0.</param>
/// <param name="IndexInEpoch">Positions of the epoch's order already handed out.</param>
/// <param name="GeneratorState">The shuffling generator's state (<c>Generator.GetState()</c>) just before it drew this epoch's order.</param>
/// <param name="DatasetSize">The number of examples, checked on restore.</param>
/// <param name="BatchSize">The batch size, checked on restore.</param>
public sealed record DataLoaderState(int Epoch, int IndexInEpoch, ulong[] GeneratorState, int DatasetSize, int BatchSize);
