using System.Net;

namespace CniVeth.Ipam.Store;

/// <summary>
/// &lt;network&gt;/.cniveth/owners/o-&lt;owner&gt;: the addresses each attachment holds, one per line, so
/// DEL and CHECK read one small file instead of every reservation. It is a cache: the IP files stay
/// the truth, every entry is verified against its IP file before use, and the whole index is rebuilt
/// from the IP files when it may be stale (see HostLocalStore).
/// </summary>
internal sealed class OwnerIndex(StoreDirectory owners, StoreDirectory scratch)
{
    public List<IPAddress> Get(ReservationOwner owner)
    {
        var result = new List<IPAddress>();
        string? text = owners.ReadText(owner.IndexFileName);
        foreach (string line in (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (IPAddress.TryParse(line, out var address)) result.Add(address);
        return result;
    }

    /// <summary>Atomically replaces the owner's list (removes the file when empty).</summary>
    public void Set(ReservationOwner owner, IReadOnlyCollection<IPAddress> addresses)
    {
        if (addresses.Count == 0)
        {
            owners.Unlink(owner.IndexFileName);
            return;
        }
        scratch.WriteNewFile(HostLocalStore.ScratchName, string.Join("\n", addresses) + "\n");
        owners.RenameFrom(scratch, HostLocalStore.ScratchName, owner.IndexFileName);
    }

    public void Add(ReservationOwner owner, IPAddress address)
    {
        var list = Get(owner);
        if (!list.Contains(address)) list.Add(address);
        Set(owner, list);
    }

    public void Remove(ReservationOwner owner, IPAddress address)
    {
        var list = Get(owner);
        if (list.Remove(address)) Set(owner, list);
    }

    /// <summary>Replaces the whole index with the given reservations.</summary>
    public void Rebuild(IEnumerable<(IPAddress Address, ReservationOwner Owner)> reservations)
    {
        foreach (string name in owners.ListNames()) owners.Unlink(name);
        // Written in place, not via scratch + rename: the store has no stamp during a rebuild, so a
        // crash half way only means another rebuild.
        foreach (var group in reservations.GroupBy(r => r.Owner))
            owners.WriteNewFile(group.Key.IndexFileName, string.Join("\n", group.Select(r => r.Address)) + "\n", replace: false);
    }
}
