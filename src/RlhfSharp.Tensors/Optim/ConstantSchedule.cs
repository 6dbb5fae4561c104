namespace RlhfSharp.Tensors.Optim;

/// <summary>The base learning rate throughout (HF get_constant_schedule).</summary>
public sealed class ConstantSchedule : LrSchedule
{
    public override float LrAt(int step) => 1f;
}
