using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace RlhfSharp.Tensors.Gpu.Tests;

/// <summary>
/// Every kernel compiles to PTX for the GPUs we target (H100/H200, sm_90), checked on machines
/// without a GPU: what the CPU accelerator runs is also what the GPU would be given. (A kernel
/// that calls a math function ILGPU has no PTX intrinsic for runs on the CPU accelerator and fails
/// only here.)
/// </summary>
public sealed class PtxCompileTests
{
    public static TheoryData<string> KernelNames()
    {
        var data = new TheoryData<string>();
        foreach (var m in Kernels())
            data.Add($"{m.DeclaringType!.Name}.{m.Name}");
        return data;
    }

    private static IEnumerable<MethodInfo> Kernels() =>
        typeof(GpuEngine).Assembly.GetTypes()
            .Where(t => t.Namespace == "RlhfSharp.Tensors.Gpu.Kernels")
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.ReturnType == typeof(void) && (Grouped(m) || m.GetParameters() is [{ ParameterType: var p }, ..] && p == typeof(Index1D)));

    private static bool Grouped(MethodInfo m) => m.GetCustomAttributes().Any(a => a.GetType().Name == "GroupedKernelAttribute");

    [Fact]
    public void TheKernelListIsNotEmpty() => Assert.True(Kernels().Count() >= 10, $"found {Kernels().Count()} kernels");

    [Theory]
    [MemberData(nameof(KernelNames))]
    public void TheKernelCompilesToPtxAnH200Runs(string name)
    {
        var method = Kernels().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);
        using var context = Context.Create(b => b.EnableAlgorithms().Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_83, nvvmAPI: null);
        var entry = Grouped(method) ? EntryPointDescription.FromExplicitlyGroupedKernel(method) : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, default(KernelSpecialization));
        // ILGPU emits PTX for at most sm_80 features; the driver compiles that PTX for sm_90 at load.
        var target = System.Text.RegularExpressions.Regex.Match(compiled.PTXAssembly, @"\.target sm_(\d+)");
        Assert.True(target.Success, "the PTX names no target");
        Assert.InRange(int.Parse(target.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), 80, 90);
        Assert.Contains(".entry", compiled.PTXAssembly);
    }
}
