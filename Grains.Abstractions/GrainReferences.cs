using Orleans.Runtime;

namespace Orleans.Rooms;

/// <summary>
/// Grain references by string key without the per-call interface and grain type resolution of
/// <see cref="IGrainFactory.GetGrain{TGrainInterface}(string, string)"/>, which reads attributes by
/// reflection (under a lock) on every call and showed up as a tenth of a front end's CPU. The types are
/// resolved once per interface; they are the same in every process. Also takes keys that are only white
/// space, which are valid room names but which that overload refuses.
/// </summary>
internal static class GrainReferences
{
    public static TGrain GetGrainByKey<TGrain>(this IGrainFactory grains, string key)
        where TGrain : IGrainWithStringKey
    {
        var (grainType, interfaceType) = Types<TGrain>.Resolve(grains, static g => g.GetGrain<TGrain>("type-probe"));
        return (TGrain)grains.GetGrain(GrainId.Create(grainType, IdSpan.Create(key)), interfaceType);
    }

    public static TGrain GetGrainByKey<TGrain>(this IGrainFactory grains, long key)
        where TGrain : IGrainWithIntegerKey
    {
        var (grainType, interfaceType) = Types<TGrain>.Resolve(grains, static g => g.GetGrain<TGrain>(0));
        return (TGrain)grains.GetGrain(GrainId.Create(grainType, GrainIdKeyExtensions.CreateIntegerKey(key)), interfaceType);
    }

    private static class Types<TGrain>
        where TGrain : IAddressable
    {
        private static (GrainType, GrainInterfaceType)? s_types;

        public static (GrainType, GrainInterfaceType) Resolve(IGrainFactory grains, Func<IGrainFactory, TGrain> probe)
        {
            if (s_types is { } types)
            {
                return types;
            }

            var reference = (GrainReference)(object)probe(grains);
            types = (reference.GrainId.Type, reference.InterfaceType);
            s_types = types;
            return types;
        }
    }
}
