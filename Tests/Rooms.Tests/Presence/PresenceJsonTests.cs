using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orleans.Rooms.Presence;

namespace Orleans.Rooms.Tests.Presence;

/// <summary>
/// The JSON of presence (docs/presence.md): keys grouped in the order they first appear, each key's metas in their
/// order, the same whether a state is small (keys compared in place) or large (grouped through a lookup), and
/// every payload whole after a larger one was written on the same thread (the writer's scratch buffer is reused).
/// </summary>
public sealed class PresenceJsonTests
{
    [Theory]
    [InlineData(3)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(400)]
    public void AStateGroupsMetasByKeyInTheOrderKeysFirstAppear(int entries)
    {
        // Keys k0, k1, k2, ... then again from k0: every key has two or three metas, far apart in the input.
        var keyCount = Math.Max(1, entries / 3 + 1);
        var input = Enumerable.Range(0, entries).Select(i => ($"k{i % keyCount}", Meta(i))).ToArray();

        var state = JsonNode.Parse(PresenceJson.State(input))!.AsObject();

        var expectedKeys = input.Select(e => e.Item1).Distinct().ToArray();
        Assert.Equal(expectedKeys, state.Select(p => p.Key).ToArray());
        foreach (var key in expectedKeys)
        {
            var expectedRefs = input.Where(e => e.Item1 == key).Select(e => JsonNode.Parse(e.Item2)!["ref"]!.GetValue<string>());
            var refs = state[key]!["metas"]!.AsArray().Select(m => m!["ref"]!.GetValue<string>());
            Assert.Equal(expectedRefs, refs);
        }
    }

    [Fact]
    public void APayloadWrittenAfterALargerOneOnTheSameThreadIsWholeAndAlone()
    {
        var large = Enumerable.Range(0, 2_000).Select(i => ($"user-{i}", Meta(i))).ToArray();
        var largeState = PresenceJson.State(large); // well over the scratch buffer that is kept
        var small = PresenceJson.DiffEvent("room-a", [("alice", Meta(1))], [], "e.1");
        var meta = PresenceJson.Meta("socket-1", """{"device":"phone"}"""u8);
        var bare = PresenceJson.Meta("socket-2", "{}"u8);

        Assert.Equal(2_000, JsonNode.Parse(largeState)!.AsObject().Count);
        Assert.Equal(
            """{"room":"room-a","joins":{"alice":{"metas":[{"ref":"s1"}]}},"leaves":{},"version":"e.1"}""",
            Encoding.UTF8.GetString(small));
        Assert.Equal("""{"ref":"socket-1","device":"phone"}""", Encoding.UTF8.GetString(meta));
        Assert.Equal("""{"ref":"socket-2"}""", Encoding.UTF8.GetString(bare));
    }

    [Fact]
    public void AStateEventCarriesTheRoomTheStateAndTheVersion()
    {
        var state = new PresenceState(PresenceJson.State([("bob", Meta(7)), ("alice", Meta(8)), ("bob", Meta(9))]), "e.4", Complete: true);

        using var payload = JsonDocument.Parse(PresenceJson.StateEvent("room-b", state));

        Assert.Equal("room-b", payload.RootElement.GetProperty("room").GetString());
        Assert.Equal("e.4", payload.RootElement.GetProperty("version").GetString());
        Assert.Equal(
            """{"bob":{"metas":[{"ref":"s7"},{"ref":"s9"}]},"alice":{"metas":[{"ref":"s8"}]}}""",
            payload.RootElement.GetProperty("state").GetRawText());
    }

    private static byte[] Meta(int socket) => Encoding.UTF8.GetBytes($$"""{"ref":"s{{socket}}"}""");
}
