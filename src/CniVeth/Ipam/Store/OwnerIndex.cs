using System.Globalization;
using System.Net;
using System.Text;
using CniVeth.Values;

namespace CniVeth.Ipam.Store;

/// <summary>A bucket of the owner index is not what we wrote (truncated, garbage, not a file): the index
/// must be rebuilt from the IP files before it is used.</summary>
internal sealed class IndexDamagedException(string message) : Exception(message);

/// <summary>
/// &lt;network&gt;/.cniveth/owners/b-XXX: which addresses each attachment holds, as "key address" lines,
/// spread over 1,024 bucket files by a hash of the owner key. DEL and CHECK read one small file instead of
/// every reservation (~60 lines at 60,000 reservations), and a rebuild writes at most 1,024 files whatever
/// the number of reservations (one file per owner cost ~1 s at 60,000).
///
/// It is a cache: the IP files stay the truth, every entry is verified against its IP file before use,
/// and the whole index is rebuilt from the IP files when it may be stale (see HostLocalStore). Each bucket
/// starts with a line "#cniveth-owners LENGTH FNV" (the byte length and FNV-1a hash of the rest), so a
/// truncated, emptied or garbled bucket is noticed (IndexDamagedException) instead of read as "this owner
/// holds nothing" — which would leak its reservations on DEL and give it a second address on a re-ADD.
///
/// Writing it is best effort: when a rebuild cannot be written (a full disk, a read-only store) the index
/// is held in memory for the rest of the call. When a write fails, WriteFailed is set: the disk copy no
/// longer answers reads (ReadsNeedRebuild: the store rebuilds it in memory first), the store writes no
/// stamp, and the next call rebuilds. A failed index write never fails a verb nor leaves a half-done change.
/// </summary>
internal sealed class OwnerIndex(StoreDirectory? owners, StoreDirectory? scratch)
{
    /// <summary>Part of the index stamp: an index written in another layout is rebuilt, never misread.</summary>
    public const string Format = "b1024h";
    private const string HeaderTag = "#cniveth-owners";
    /// <summary>A bucket larger than this is not ours (60,000 reservations with 4 KB container IDs are
    /// ~250 KB per bucket).</summary>
    private const int MaxBucketBytes = 4 << 20;

    private Dictionary<string, List<IPAddress>>? _memory;
    /// <summary>The bucket read last and its lines. A call holds the store lock throughout and every bucket
    /// write goes through this class, so a bucket read once stays true until we write it: ADD and DEL read
    /// the owner's bucket to look up and again to update it.</summary>
    private (string Bucket, string[] Lines)? _lastRead;

    private bool Writable => owners is not null && scratch is not null;

    /// <summary>A write of this call failed: the disk copy may miss changes of this call.</summary>
    public bool WriteFailed { get; private set; }

    /// <summary>May a stamp vouch for the disk copy? Only when it was writable and every write succeeded.</summary>
    public bool Vouchable => Writable && !WriteFailed;

    /// <summary>Reads must not come from the disk copy (a write failed) and there is no memory copy yet.</summary>
    public bool ReadsNeedRebuild => WriteFailed && _memory is null;

    /// <summary>The owner's listed addresses (not yet verified against the IP files).</summary>
    /// <exception cref="IndexDamagedException">The owner's bucket is damaged (only when not in memory).</exception>
    public List<IPAddress> Get(ReservationOwner owner)
    {
        string key = owner.IndexKey;
        if (_memory is not null) return _memory.TryGetValue(key, out var held) ? new List<IPAddress>(held) : [];
        if (owners is null) throw new IndexDamagedException("the index directory is missing");
        var result = new List<IPAddress>();
        foreach (string line in ReadBucket(BucketOf(key)))
            if (IsOf(line, key) && IPAddress.TryParse(line.AsSpan(key.Length + 1), out IPAddress? address)) result.Add(address);
        return result;
    }

    /// <summary>Replaces the owner's list (removes its lines when empty).</summary>
    public void Set(ReservationOwner owner, IReadOnlyCollection<IPAddress> addresses) =>
        Update(owner, mine => { mine.Clear(); mine.AddRange(addresses); return true; });

    public void Add(ReservationOwner owner, IPAddress address) =>
        Update(owner, mine => { if (mine.Contains(address)) return false; mine.Add(address); return true; });

    public void Remove(ReservationOwner owner, IPAddress address) => Update(owner, mine => mine.Remove(address));

    /// <summary>Applies a change to the memory copy (when there is one) and to the owner's bucket: one read
    /// and, when <paramref name="change"/> says so, one atomic rewrite. Never throws for the disk.</summary>
    private void Update(ReservationOwner owner, Func<List<IPAddress>, bool> change)
    {
        string key = owner.IndexKey;
        if (_memory is not null)
        {
            if (!_memory.TryGetValue(key, out var held)) _memory[key] = held = new List<IPAddress>();
            change(held);
            if (held.Count == 0) _memory.Remove(key);
        }
        if (!Writable || WriteFailed) return;
        try
        {
            string bucket = BucketOf(key);
            var others = new StringBuilder();
            var mine = new List<IPAddress>();
            foreach (string line in ReadBucket(bucket))
            {
                if (!IsOf(line, key)) others.Append(line).Append('\n');
                else if (IPAddress.TryParse(line.AsSpan(key.Length + 1), out IPAddress? address)) mine.Add(address);
            }
            if (!change(mine)) return;
            foreach (IPAddress address in mine) AppendLine(others, key, address);
            WriteBucket(bucket, others.ToString(), replace: true);
        }
        catch (Exception e) when (e is StoreException or IndexDamagedException)
        {
            WriteFailed = true; // the next call rebuilds from the IP files
        }
    }

    /// <summary>Replaces the whole index (any layout found there) with the given reservations: on disk when
    /// it can be written, otherwise in memory for the rest of this call.</summary>
    public void Rebuild(IReadOnlyList<(IPAddress Address, ReservationOwner Owner)> reservations)
    {
        _memory = null;
        _lastRead = null;
        WriteFailed = false;
        if (Writable)
        {
            var buckets = new Dictionary<string, StringBuilder>(StringComparer.Ordinal);
            foreach (var (address, owner) in reservations)
            {
                string key = owner.IndexKey, bucket = BucketOf(key);
                if (!buckets.TryGetValue(bucket, out var text)) buckets[bucket] = text = new StringBuilder();
                AppendLine(text, key, address);
            }
            try
            {
                foreach (string name in owners!.ListNames()) owners.RemoveAny(name);
                // Written in place, not via scratch + rename: the store has no valid stamp during a rebuild,
                // and a bucket cut short is recognised by its header.
                foreach (var (bucket, text) in buckets) WriteBucket(bucket, text.ToString(), replace: false);
                return;
            }
            catch (StoreException)
            {
                WriteFailed = true;
            }
        }
        _memory = new Dictionary<string, List<IPAddress>>(StringComparer.Ordinal);
        foreach (var (address, owner) in reservations)
        {
            string key = owner.IndexKey;
            if (!_memory.TryGetValue(key, out var held)) _memory[key] = held = new List<IPAddress>();
            if (!held.Contains(address)) held.Add(address);
        }
    }

    private void WriteBucket(string bucket, string body, bool replace)
    {
        _lastRead = null; // whether or not the write below succeeds, the disk is read again next time
        if (body.Length == 0)
        {
            owners!.RemoveAny(bucket);
            return;
        }
        string text = Header(body) + body;
        if (!replace)
        {
            owners!.WriteNewFile(bucket, text, replace: false);
            return;
        }
        scratch!.WriteNewFile(HostLocalStore.ScratchName, text);
        owners!.RenameFrom(scratch, HostLocalStore.ScratchName, bucket);
    }

    /// <summary>The lines of a bucket after its header; none when the bucket does not exist.</summary>
    /// <exception cref="IndexDamagedException">It is not a bucket we wrote.</exception>
    private string[] ReadBucket(string bucket)
    {
        if (_lastRead is { } last && last.Bucket == bucket) return last.Lines;
        string[] lines = ReadBucketFile(bucket);
        _lastRead = (bucket, lines);
        return lines;
    }

    private string[] ReadBucketFile(string bucket)
    {
        StoreFile file = owners!.Read(bucket, MaxBucketBytes);
        if (file.Kind == EntryKind.Missing) return [];
        if (!file.IsFile) throw new IndexDamagedException($"{owners.Child(bucket)} is not a bucket file");
        string text = file.Text;
        int newline = text.IndexOf('\n');
        if (newline < 0 || !text.AsSpan(0, newline + 1).SequenceEqual(Header(text.AsSpan(newline + 1))))
            throw new IndexDamagedException($"{owners.Child(bucket)} is damaged");
        return text[(newline + 1)..].Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The header for a body: its length and FNV-1a hash. The bodies we write are ASCII (escaped
    /// keys and addresses), so chars are bytes; a damaged file decodes to other chars and fails the check.</summary>
    private static string Header(ReadOnlySpan<char> body)
    {
        uint h = 2166136261;
        foreach (char c in body) h = (h ^ c) * 16777619;
        return HeaderTag + " " + body.Length.ToString(CultureInfo.InvariantCulture) + " "
            + h.ToString("x8", CultureInfo.InvariantCulture) + "\n";
    }

    internal static string BucketOf(string key) => "b-" + (StableHash.Fnv1a32(key) & 0x3FF).ToString("x3");

    private static void AppendLine(StringBuilder text, string key, IPAddress address) =>
        text.Append(key).Append(' ').Append(address.ToString()).Append('\n');

    /// <summary>Keys hold no spaces (see ReservationOwner.IndexKey), so "key " starts only that owner's lines.</summary>
    private static bool IsOf(string line, string key) =>
        line.Length > key.Length && line[key.Length] == ' ' && line.StartsWith(key, StringComparison.Ordinal);
}
