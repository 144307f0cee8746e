using System.Net;
using System.Text;
using CniVeth.Cni;
using CniVeth.Values;

namespace CniVeth.Ipam.Store;

/// <summary>
/// &lt;network&gt;/.cniveth/owners/b-XXX: which addresses each attachment holds, as "key address" lines,
/// spread over 1,024 bucket files by a hash of the owner key. DEL and CHECK read one small file instead of
/// every reservation (~60 lines at 60,000 reservations), and a rebuild writes at most 1,024 files whatever
/// the number of reservations (one file per owner cost ~1 s at 60,000). It is a cache: the IP files stay the truth, every entry is
/// verified against its IP file before use, and the whole index is rebuilt from the IP files when it
/// may be stale (see HostLocalStore).
/// </summary>
internal sealed class OwnerIndex(StoreDirectory owners, StoreDirectory scratch)
{
    /// <summary>Part of the index stamp: an index written in another layout is rebuilt, never misread.</summary>
    public const string Format = "b1024";

    public List<IPAddress> Get(ReservationOwner owner)
    {
        string key = owner.IndexKey;
        var result = new List<IPAddress>();
        foreach (string line in Lines(owners.ReadText(BucketOf(key))))
            if (IsOf(line, key) && IPAddress.TryParse(line.AsSpan(key.Length + 1), out IPAddress? address)) result.Add(address);
        return result;
    }

    /// <summary>Atomically replaces the owner's list in its bucket (removes the bucket when it empties).</summary>
    public void Set(ReservationOwner owner, IReadOnlyCollection<IPAddress> addresses) =>
        Update(owner, mine => { mine.Clear(); mine.AddRange(addresses); return true; });

    public void Add(ReservationOwner owner, IPAddress address) =>
        Update(owner, mine => { if (mine.Contains(address)) return false; mine.Add(address); return true; });

    public void Remove(ReservationOwner owner, IPAddress address) => Update(owner, mine => mine.Remove(address));

    /// <summary>One read and (when <paramref name="change"/> says so) one atomic rewrite of the owner's bucket.</summary>
    private void Update(ReservationOwner owner, Func<List<IPAddress>, bool> change)
    {
        string key = owner.IndexKey, bucket = BucketOf(key);
        var others = new StringBuilder();
        var mine = new List<IPAddress>();
        foreach (string line in Lines(owners.ReadText(bucket)))
        {
            if (!IsOf(line, key)) others.Append(line).Append('\n');
            else if (IPAddress.TryParse(line.AsSpan(key.Length + 1), out IPAddress? address)) mine.Add(address);
        }
        if (!change(mine)) return;
        foreach (IPAddress address in mine) AppendLine(others, key, address);
        if (others.Length == 0)
        {
            owners.Unlink(bucket);
            return;
        }
        scratch.WriteNewFile(HostLocalStore.ScratchName, others.ToString());
        owners.RenameFrom(scratch, HostLocalStore.ScratchName, bucket);
    }

    /// <summary>Replaces the whole index (any layout found there) with the given reservations.</summary>
    public void Rebuild(IEnumerable<(IPAddress Address, ReservationOwner Owner)> reservations)
    {
        foreach (string name in owners.ListNames()) owners.Unlink(name);
        var buckets = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
        foreach (var (address, owner) in reservations)
        {
            string key = owner.IndexKey, bucket = BucketOf(key);
            if (!buckets.TryGetValue(bucket, out var text)) buckets[bucket] = text = new StringBuilder();
            AppendLine(text, key, address);
        }
        // Written in place, not via scratch + rename: the store has no stamp during a rebuild, so a
        // crash half way only means another rebuild.
        foreach (var (bucket, text) in buckets) owners.WriteNewFile(bucket, text.ToString(), replace: false);
    }

    internal static string BucketOf(string key) => "b-" + (StableHash.Fnv1a32(key) & 0x3FF).ToString("x3");

    private static void AppendLine(StringBuilder text, string key, IPAddress address) =>
        text.Append(key).Append(' ').Append(address.ToString()).Append('\n');

    private static string[] Lines(string? text) =>
        (text ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Keys hold no spaces (see ReservationOwner.IndexKey), so "key " starts only that owner's lines.</summary>
    private static bool IsOf(string line, string key) =>
        line.Length > key.Length && line[key.Length] == ' ' && line.StartsWith(key, StringComparison.Ordinal);
}
