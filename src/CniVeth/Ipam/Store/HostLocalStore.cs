using System.Globalization;
using System.Net;
using CniVeth.Ipam.Config;

namespace CniVeth.Ipam.Store;

/// <summary>
/// The reservations of one network, on disk exactly as the reference host-local keeps them:
/// &lt;dataDir&gt;/&lt;network&gt;/&lt;ip&gt; = "containerID\r\nifname", last_reserved_ip.&lt;rangeID&gt;, and the
/// flock'ed "lock" file, held for the lifetime of this object. Our own state lives in .cniveth/
/// (owner index, index stamp, boot id, scratch file), which the reference ignores.
///
/// Atomic publish: content is written to .cniveth/tmp and then link(2)ed to its IP name, which fails
/// with EEXIST if taken — O_EXCL semantics without an empty-file window; last_reserved_ip is replaced
/// with rename(2). Nothing is fsynced: a reservation only matters while its container lives, and a
/// power loss kills every container; the reboot sweep then releases every file from before the boot,
/// so a file torn by a power loss can never leak. fsync per ADD would cost milliseconds for nothing.
///
/// Index freshness: after every change we set the network directory's mtime to (now - 1 s) and record
/// the resulting value in .cniveth/stamp (a subdirectory, so writing the stamp does not change the
/// directory it describes). Any other writer that adds or removes a file (the reference plugin, an
/// admin, or our own crash mid-way) leaves a different mtime — the kernel stamps "now", never a second
/// in the past — and the next call rebuilds the index from the IP files.
/// </summary>
internal sealed class HostLocalStore : IDisposable
{
    public const string ScratchName = "tmp";
    private const string MetaDirName = ".cniveth";
    private const string StampFile = "stamp";

    private readonly StoreDirectory _dir;
    private readonly StoreDirectory _meta;
    private readonly StoreDirectory _ownersDir;
    private readonly StoreLock _lock;
    private readonly OwnerIndex _index;
    private bool _dirty;      // the network directory or the index changed: stamp on dispose
    private bool _mutating;   // a change is half done (an exception escaped): force a rebuild next time

    public string Path => _dir.Path;
    /// <summary>Addresses released by the reboot sweep when this store was opened.</summary>
    public IReadOnlyList<IPAddress> ReleasedAtBoot { get; }
    public bool IndexWasRebuilt { get; private set; }

    private HostLocalStore(StoreDirectory dir, StoreDirectory meta, StoreDirectory owners, StoreLock storeLock,
        StoreOptions options)
    {
        _dir = dir;
        _meta = meta;
        _ownersDir = owners;
        _lock = storeLock;
        _index = new OwnerIndex(owners, meta);
        ReleasedAtBoot = BootSweep.Run(dir, meta, options);
        if (!StampMatches()) RebuildIndex();
    }

    /// <summary>Opens and locks the store. With create=false returns null when the network directory
    /// does not exist (DEL/GC of something never added).</summary>
    public static HostLocalStore? Open(StoreLocation location, StoreOptions options, bool create = true)
    {
        using var dataDir = StoreDirectory.OpenPath(location.DataDir, create);
        if (dataDir is null) return null;
        var dir = dataDir.OpenChild(location.Network, create);
        if (dir is null) return null;
        StoreLock? storeLock = null;
        StoreDirectory? meta = null, owners = null;
        try
        {
            storeLock = StoreLock.Acquire(dir, options.LockTimeout);
            meta = dir.OpenChild(MetaDirName, create: true)!;
            owners = meta.OpenChild("owners", create: true)!;
            return new HostLocalStore(dir, meta, owners, storeLock, options);
        }
        catch
        {
            owners?.Dispose();
            meta?.Dispose();
            storeLock?.Dispose();
            dir.Dispose();
            throw;
        }
    }

    /// <summary>File names that are reservations: an address in its canonical text form.</summary>
    public static bool TryParseReservationName(string name, out IPAddress address)
    {
        address = IPAddress.None;
        if (!IPAddress.TryParse(name, out var parsed) || parsed.ToString() != name) return false;
        address = parsed;
        return true;
    }

    private static string FileName(IPAddress address) => address.ToString();

    public bool IsTaken(IPAddress address) => _dir.Stat(FileName(address)) is not null;

    public ReservationOwner? OwnerOf(IPAddress address) => ReservationOwner.Parse(_dir.ReadText(FileName(address)));

    /// <summary>Reserves an address for an owner; false when it is already taken.</summary>
    public bool TryReserve(IPAddress address, ReservationOwner owner)
    {
        _meta.WriteNewFile(ScratchName, owner.FileContent);
        _mutating = true;
        bool published = _dir.TryLinkFrom(_meta, ScratchName, FileName(address));
        _meta.Unlink(ScratchName);
        if (published)
        {
            _index.Add(owner, address);
            _dirty = true;
        }
        _mutating = false;
        return published;
    }

    /// <summary>Releases one address if (and only if) it is still held by that owner.</summary>
    public bool Release(IPAddress address, ReservationOwner owner)
    {
        if (OwnerOf(address) != owner) return false;
        _mutating = true;
        bool removed = _dir.Unlink(FileName(address));
        _index.Remove(owner, address);
        _dirty = true;
        _mutating = false;
        return removed;
    }

    /// <summary>The addresses held by an owner (index entries verified against their IP files).</summary>
    public List<IPAddress> AddressesOf(ReservationOwner owner) =>
        _index.Get(owner).Where(a => OwnerOf(a) == owner).ToList();

    /// <summary>Releases everything one owner holds; returns what was released.</summary>
    public List<IPAddress> ReleaseAll(ReservationOwner owner)
    {
        var released = new List<IPAddress>();
        var listed = _index.Get(owner);
        if (listed.Count == 0) return released;
        _mutating = true;
        foreach (var address in listed)
            if (OwnerOf(address) == owner && _dir.Unlink(FileName(address))) released.Add(address);
        _index.Set(owner, []);
        _dirty = true;
        _mutating = false;
        return released;
    }

    public IPAddress? LastReserved(int rangeId) =>
        IPAddress.TryParse((_dir.ReadText($"last_reserved_ip.{rangeId}") ?? "").Trim(), out var a) ? a : null;

    public void SetLastReserved(int rangeId, IPAddress address)
    {
        _meta.WriteNewFile(ScratchName, address.ToString());
        _dir.RenameFrom(_meta, ScratchName, $"last_reserved_ip.{rangeId}");
        _dirty = true;
    }

    /// <summary>Every reservation file with its owner (null when unreadable/empty). O(n): GC and rebuilds only.</summary>
    public List<(IPAddress Address, ReservationOwner? Owner)> ScanAll()
    {
        var result = new List<(IPAddress, ReservationOwner?)>();
        foreach (string name in _dir.ListNames())
            if (TryParseReservationName(name, out var address))
                result.Add((address, ReservationOwner.Parse(_dir.ReadText(name))));
        return result;
    }

    /// <summary>Removes a reservation file whatever it holds (GC of unowned/torn files).</summary>
    public bool Remove(IPAddress address)
    {
        _mutating = true;
        bool removed = _dir.Unlink(FileName(address));
        _mutating = false;
        _dirty = true;
        return removed;
    }

    public void RebuildIndex()
    {
        _meta.Unlink(StampFile);
        _meta.Unlink(ScratchName);
        _index.Rebuild(ScanAll().Where(r => r.Owner is not null).Select(r => (r.Address, r.Owner!.Value)));
        _dirty = true;
        IndexWasRebuilt = true;
    }

    /// <summary>Checks that a file can be created here (STATUS).</summary>
    public void ProbeWritable()
    {
        _meta.WriteNewFile(ScratchName, "");
        _meta.Unlink(ScratchName);
    }

    private bool StampMatches()
    {
        string? stamp = _meta.ReadText(StampFile);
        return stamp is not null && stamp.Trim() == StampText(_dir.StatSelf().stx_mtime);
    }

    /// <summary>The directory's mtime, and the index layout it was written in.</summary>
    private static string StampText(Tmds.Linux.statx_timestamp t) =>
        $"{t.tv_sec.ToString(CultureInfo.InvariantCulture)}.{t.tv_nsec:D9} {OwnerIndex.Format}";

    private void WriteStamp()
    {
        // A second in the past: no later write by anyone can produce this mtime.
        long unixTicks = DateTimeOffset.UtcNow.AddSeconds(-1).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = unixTicks / TimeSpan.TicksPerSecond;
        long nanoseconds = unixTicks % TimeSpan.TicksPerSecond * 100;
        _dir.SetModifyTime(seconds, nanoseconds);
        _meta.WriteNewFile(ScratchName, StampText(_dir.StatSelf().stx_mtime));
        _meta.RenameFrom(_meta, ScratchName, StampFile);
    }

    public void Dispose()
    {
        try
        {
            if (_mutating) _meta.Unlink(StampFile);
            else if (_dirty) WriteStamp();
        }
        catch (StoreException)
        {
            // A missing stamp only costs a rebuild on the next call.
            try { _meta.Unlink(StampFile); } catch (StoreException) { }
        }
        finally
        {
            _ownersDir.Dispose();
            _meta.Dispose();
            _lock.Dispose();
            _dir.Dispose();
        }
    }
}
