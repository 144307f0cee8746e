using System.Net;
using CniVeth.Ipam.Config;

namespace CniVeth.Ipam.Store;

/// <summary>How a verb uses the store: ADD, DEL, GC and STATUS change it; CHECK only reads.</summary>
internal enum StoreAccess { ReadWrite, ReadOnly }

/// <summary>
/// The reservations of one network, on disk exactly as the reference host-local keeps them:
/// &lt;dataDir&gt;/&lt;network&gt;/&lt;ip&gt; = "containerID\r\nifname", last_reserved_ip.&lt;rangeID&gt;, and the
/// flock'ed "lock" file, held for the lifetime of this object. Our own state lives in .cniveth/
/// (owner index, index stamp, boot record, scratch file), which the reference ignores. See Ipam/README.md.
///
/// Atomic publish: content is written to .cniveth/tmp and then link(2)ed to its IP name, which fails
/// with EEXIST if taken — O_EXCL semantics without an empty-file window; last_reserved_ip is replaced
/// with rename(2). Nothing is fsynced: a reservation only matters while its container lives, and a
/// power loss kills every container; the reboot sweep (BootSweep) then releases what it can prove is
/// from before the boot. fsync per ADD would cost milliseconds for nothing.
///
/// All or nothing: a reservation exists once its link(2) succeeded and not before; the owner index is a
/// cache that follows (OwnerIndex: its writes never fail a verb). When the index could not follow, no
/// stamp vouches for it and the next call rebuilds it from the IP files.
///
/// Index freshness: after every change we set the network directory's mtime to (now - 1 s) and record
/// it, the owners directory's mtime, the layout and the boot in .cniveth/stamp (a subdirectory, so
/// writing the stamp does not change the directory it describes). Any other writer that adds or removes
/// a file (the reference plugin, an admin, our own crash mid-way) leaves a different mtime — the kernel
/// stamps "now", never a second in the past — and the next call rebuilds the index from the IP files.
///
/// Our own state is never trusted blindly: a .cniveth entry of the wrong type is replaced, a damaged bucket
/// triggers a rebuild, and when .cniveth cannot be written at all (a full or read-only disk) the index
/// lives in memory for the call, so DEL and GC still work. Entries named like an address that are not
/// regular files of at most 1 MiB are foreign: never read, never handed out (their name is taken), never
/// removed. Every repair or skip is reported in one stderr line per use of the store.
/// </summary>
internal sealed class HostLocalStore : IDisposable
{
    public const string ScratchName = "tmp";
    private const string MetaDirName = ".cniveth";
    private const string OwnersDirName = "owners";
    private const string StampFile = "stamp";
    /// <summary>A larger file named like an address is not a reservation (the reference writes
    /// "containerID\r\nifname"; an environment variable such as CNI_CONTAINERID holds at most 128 KiB).</summary>
    public const int MaxReservationBytes = 1 << 20;
    /// <summary>Cap for the stamp, the boot record and last_reserved_ip.N.</summary>
    private const int MaxSmallFileBytes = 4096;

    private readonly StoreDirectory _dir;
    private readonly StoreDirectory? _meta;
    private readonly StoreDirectory? _owners;
    private readonly StoreException? _metaFailure;
    private readonly StoreLock? _lock;
    private readonly OwnerIndex _index;
    private readonly StoreOptions _options;
    private readonly bool _writable;
    private readonly string _bootId;
    private readonly byte[]? _bootTag;  // the boot tag value, null when the boot is unknown
    private readonly List<string> _notes = new();
    private List<(IPAddress Address, ReservationOwner? Owner)>? _scan;
    private List<IPAddress> _releasedAtBoot = new();
    private bool _changed;    // the network directory or the index changed: stamp on dispose
    private bool _mutating;   // a change is half done (an exception escaped): no stamp may vouch for the index

    public string Path => _dir.Path;
    /// <summary>Addresses released by the reboot sweep when this store was opened.</summary>
    public IReadOnlyList<IPAddress> ReleasedAtBoot => _releasedAtBoot;
    public bool IndexWasRebuilt { get; private set; }

    private HostLocalStore(StoreDirectory dir, StoreDirectory? meta, StoreDirectory? owners, StoreException? metaFailure,
        StoreLock? storeLock, StoreOptions options, StoreAccess access)
    {
        _dir = dir;
        _meta = meta;
        _owners = owners;
        _metaFailure = metaFailure;
        _lock = storeLock;
        _options = options;
        _writable = access == StoreAccess.ReadWrite;
        _index = new OwnerIndex(owners, _writable ? meta : null);
        string bootId = options.BootId();
        _bootId = BootTag.IsValidBootId(bootId) ? bootId : "";
        _bootTag = _bootId.Length > 0 ? BootTag.Value(_bootId) : null;

        IndexStamp? stamp = ReadSmall(_meta, StampFile) is { } text ? IndexStamp.Parse(text) : null;
        var dirTime = _dir.StatSelf().stx_mtime;
        bool fresh = stamp is not null && stamp.Matches(dirTime, _owners?.StatSelf().stx_mtime);
        string? bootRecord = _bootId.Length > 0 && _writable ? ReadSmall(_meta, BootSweep.RecordFile)?.Trim() : null;
        bool sweep = _writable && _bootId.Length > 0 && bootRecord != _bootId;
        if (sweep || !fresh)
            Scan(sweep, sweep && BootSweep.StoreUnchangedSinceEarlierBoot(stamp, dirTime, _bootId, bootRecord));
    }

    /// <summary>Opens and locks the store. With create=false returns null when the network directory
    /// does not exist (DEL/GC/CHECK of something never added). ReadOnly (CHECK) writes nothing at all.</summary>
    public static HostLocalStore? Open(StoreLocation location, StoreOptions options, bool create = true,
        StoreAccess access = StoreAccess.ReadWrite)
    {
        if (access == StoreAccess.ReadOnly) create = false;
        using var dataDir = StoreDirectory.OpenPath(location.DataDir, create);
        if (dataDir is null) return null;
        var dir = dataDir.OpenChild(location.Network, create);
        if (dir is null) return null;
        StoreLock? storeLock = null;
        StoreDirectory? meta = null, owners = null;
        try
        {
            bool write = access == StoreAccess.ReadWrite;
            storeLock = write ? StoreLock.Acquire(dir, options.LockTimeout) : StoreLock.AcquireShared(dir, options.LockTimeout);
            var notes = new List<string>();
            meta = dir.OpenOwnChild(MetaDirName, write, out var failure, out bool replacedMeta);
            if (replacedMeta) notes.Add($"replaced {dir.Child(MetaDirName)}, which was not a directory");
            if (meta is not null)
            {
                owners = meta.OpenOwnChild(OwnersDirName, write, out failure, out bool replacedOwners);
                if (replacedOwners) notes.Add($"replaced {meta.Child(OwnersDirName)}, which was not a directory");
            }
            if (failure is not null && write) notes.Add($"keeping the owner index in memory only: {failure.Message}");
            var store = new HostLocalStore(dir, meta, owners, failure, storeLock, options, access);
            store._notes.InsertRange(0, notes);
            return store;
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
        if (name.Length == 0 || name.Length > 45 || !(char.IsAsciiHexDigit(name[0]) || name[0] == ':')) return false;
        if (!IPAddress.TryParse(name, out var parsed) || parsed.ToString() != name) return false;
        address = parsed;
        return true;
    }

    private static string FileName(IPAddress address) => address.ToString();

    /// <summary>Anything by that name (a foreign entry included) makes the address taken.</summary>
    public bool IsTaken(IPAddress address) => _dir.Stat(FileName(address)) is not null;

    /// <summary>Who the reservation file names; null when it is absent, empty or not a reservation file.</summary>
    public ReservationOwner? OwnerOf(IPAddress address)
    {
        StoreFile file = _dir.Read(FileName(address), MaxReservationBytes);
        return file.IsFile ? ReservationOwner.Parse(file.Text) : null;
    }

    /// <summary>Reserves an address for an owner; false when it is already taken. Atomic: the reservation
    /// exists exactly when this returns true.</summary>
    public bool TryReserve(IPAddress address, ReservationOwner owner)
    {
        StoreDirectory meta = Scratch();
        meta.WriteNewFile(ScratchName, owner.FileContent, tag: _bootTag);
        bool published;
        try
        {
            published = _dir.TryLinkFrom(meta, ScratchName, FileName(address));
        }
        finally
        {
            // A leftover scratch name is harmless (the next write replaces it); it must not undo a publish.
            try { meta.Unlink(ScratchName); } catch (StoreException) { }
        }
        if (!published) return false;
        _changed = true;
        _index.Add(owner, address);
        return true;
    }

    /// <summary>Releases one address if (and only if) it is still held by that owner.</summary>
    public bool Release(IPAddress address, ReservationOwner owner) =>
        OwnerOf(address) == owner && Unreserve(address, owner);

    /// <summary>Removes a reservation this call made itself (rolling back an ADD), without reading it back.</summary>
    public bool Unreserve(IPAddress address, ReservationOwner owner)
    {
        Writable();
        _mutating = true;
        bool removed = _dir.Unlink(FileName(address));
        _changed = true;
        _index.Remove(owner, address);
        _mutating = false;
        return removed;
    }

    /// <summary>The addresses held by an owner (index entries verified against their IP files).</summary>
    public List<IPAddress> AddressesOf(ReservationOwner owner)
    {
        var held = new List<IPAddress>();
        foreach (var address in Listed(owner))
            if (OwnerOf(address) == owner) held.Add(address);
        return held;
    }

    /// <summary>Releases everything one owner holds; returns what was released.</summary>
    public List<IPAddress> ReleaseAll(ReservationOwner owner) => ReleaseAll(owner, AddressesOf(owner));

    /// <summary>Releases <paramref name="held"/>: what AddressesOf(owner) returned earlier in this call (the
    /// store lock is held throughout, so it is still true; DEL reads it once for its firewall step and
    /// once here otherwise). The owner's index entries become what could not be removed. An address whose
    /// file cannot be removed stays listed, and the first such error is thrown after the others were
    /// released (a retried DEL finishes the job).</summary>
    public List<IPAddress> ReleaseAll(ReservationOwner owner, IReadOnlyList<IPAddress> held)
    {
        Writable();
        var released = new List<IPAddress>();
        if (held.Count == 0 && Listed(owner).Count == 0) return released;
        var kept = new List<IPAddress>();
        StoreException? failure = null;
        _mutating = true;
        foreach (var address in held)
        {
            try
            {
                if (_dir.Unlink(FileName(address))) released.Add(address);
            }
            catch (StoreException e)
            {
                failure ??= e;
                kept.Add(address);
            }
        }
        _changed = true;
        _index.Set(owner, kept);
        _mutating = false;
        if (failure is not null) throw failure;
        return released;
    }

    /// <summary>The owner's index entries; a damaged index is rebuilt from the IP files first.</summary>
    private List<IPAddress> Listed(ReservationOwner owner)
    {
        if (_index.ReadsNeedRebuild) Scan(sweep: false, storeUnchangedSinceEarlierBoot: false);
        try
        {
            return _index.Get(owner);
        }
        catch (IndexDamagedException e)
        {
            _notes.Add($"rebuilt the owner index: {e.Message}");
            Scan(sweep: false, storeUnchangedSinceEarlierBoot: false);
            return _index.Get(owner);
        }
    }

    public IPAddress? LastReserved(int rangeId)
    {
        StoreFile file = _dir.Read(LastReservedName(rangeId), MaxSmallFileBytes);
        return file.IsFile && IPAddress.TryParse(file.Text.Trim(), out var a) ? a : null;
    }

    /// <summary>Records the round-robin hint. Best effort: it only steers the next search, so a full disk
    /// or a foreign entry of that name (a directory) must not fail the ADD that reserved the address.</summary>
    public void SetLastReserved(int rangeId, IPAddress address)
    {
        if (_meta is null || !_writable) return;
        try
        {
            _meta.WriteNewFile(ScratchName, address.ToString());
            _changed = true;
            _dir.RenameFrom(_meta, ScratchName, LastReservedName(rangeId));
        }
        catch (StoreException)
        {
            try { _meta.Unlink(ScratchName); } catch (StoreException) { }
        }
    }

    private static string LastReservedName(int rangeId) =>
        "last_reserved_ip." + rangeId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every reservation file (a regular file of at most 1 MiB named like an address) with its owner
    /// (null when empty). O(n): GC only; the scan made when the store was opened is reused.</summary>
    public IReadOnlyList<(IPAddress Address, ReservationOwner? Owner)> ScanAll()
    {
        if (_scan is null) Scan(sweep: false, storeUnchangedSinceEarlierBoot: false);
        return _scan!;
    }

    /// <summary>Removes reservation files whatever they hold (GC of unowned/torn files and invalid
    /// attachments; only files ScanAll listed). Returns what was removed and the failures; the index is
    /// rebuilt from the scan minus what is gone.</summary>
    public (List<IPAddress> Removed, List<StoreException> Errors) RemoveAll(IReadOnlyCollection<IPAddress> addresses)
    {
        Writable();
        var scan = ScanAll();
        var removed = new List<IPAddress>();
        var errors = new List<StoreException>();
        var gone = new HashSet<IPAddress>();
        _mutating = true;
        foreach (var address in addresses)
        {
            try
            {
                if (_dir.Unlink(FileName(address))) removed.Add(address);
                gone.Add(address);
            }
            catch (StoreException e) { errors.Add(e); }
        }
        _changed = true;
        if (gone.Count > 0)
        {
            _scan = scan.Where(r => !gone.Contains(r.Address)).ToList();
            RebuildIndexFromScan();
        }
        _mutating = false;
        return (removed, errors);
    }

    /// <summary>Checks that a file can be created here (STATUS).</summary>
    public void ProbeWritable()
    {
        StoreDirectory meta = Scratch();
        meta.WriteNewFile(ScratchName, "");
        meta.Unlink(ScratchName);
    }

    /// <summary>Removing needs only the network directory (DEL and GC work on a full disk).</summary>
    private void Writable()
    {
        if (!_writable) throw new InvalidOperationException("the store was opened read-only");
    }

    /// <summary>Creating a file needs .cniveth for the scratch file.</summary>
    private StoreDirectory Scratch()
    {
        Writable();
        return _meta ?? throw (_metaFailure ?? StoreException.Io($"{_dir.Child(MetaDirName)} is not available"));
    }

    /// <summary>
    /// One pass over the network directory: rebuilds the owner index from the IP files (in memory, and on
    /// disk when possible), tags every reservation file with the current boot, and, when
    /// <paramref name="sweep"/>, releases the files BootSweep proves to be from an earlier boot.
    /// </summary>
    private void Scan(bool sweep, bool storeUnchangedSinceEarlierBoot)
    {
        bool tag = _writable && _bootId.Length > 0;
        var entries = new List<(IPAddress, ReservationOwner?)>();
        int foreign = 0, sweepFailures = 0;
        StoreException? firstSweepFailure = null;
        foreach (string name in _dir.ListNames())
        {
            if (!TryParseReservationName(name, out var address)) continue;
            var (fd, kind) = _dir.OpenForReading(name);
            using (fd)
            {
                if (kind == EntryKind.Missing) continue;
                StoreFile file = kind == EntryKind.File ? _dir.ReadOpened(fd, name, MaxReservationBytes) : new StoreFile(kind, "");
                if (!file.IsFile)
                {
                    foreign++;
                    continue;
                }
                if (sweep)
                {
                    var (state, value) = BootTag.Read(fd);
                    if (BootSweep.IsFromEarlierBoot(state, value, _bootId, storeUnchangedSinceEarlierBoot))
                    {
                        try
                        {
                            if (_dir.Unlink(name)) _releasedAtBoot.Add(address);
                            continue;
                        }
                        catch (StoreException e)
                        {
                            // kept (still reserved) and the sweep is retried by the next call
                            sweepFailures++;
                            firstSweepFailure ??= e;
                        }
                    }
                    else if (tag && state == BootTag.State.Absent) BootTag.TrySet(fd, _bootTag!, onlyIfAbsent: false);
                }
                else if (tag) BootTag.TrySet(fd, _bootTag!, onlyIfAbsent: true);
                entries.Add((address, ReservationOwner.Parse(file.Text)));
            }
        }
        _scan = entries;
        _changed = true;
        RebuildIndexFromScan();

        if (foreign > 0)
            _notes.Add($"{foreign} entr{(foreign == 1 ? "y" : "ies")} named like an address but not a regular file of at most 1 MiB: treated as taken, left alone");
        if (!sweep) return;
        if (_releasedAtBoot.Count > 0)
            _notes.Add($"released {_releasedAtBoot.Count} reservation(s) made before the current boot");
        if (sweepFailures > 0)
            _notes.Add($"kept {sweepFailures} reservation(s) of an earlier boot that could not be removed ({firstSweepFailure!.Message})");
        else if (_meta is not null)
            WriteSmallQuietly(BootSweep.RecordFile, _bootId + "\n"); // if this fails, the next call sweeps again
    }

    private void RebuildIndexFromScan()
    {
        var owned = new List<(IPAddress Address, ReservationOwner Owner)>(_scan!.Count);
        foreach (var (address, owner) in _scan!)
            if (owner is { } o) owned.Add((address, o));
        _index.Rebuild(owned);
        IndexWasRebuilt = true;
    }

    private static string? ReadSmall(StoreDirectory? dir, string name)
    {
        if (dir is null) return null;
        StoreFile file = dir.Read(name, MaxSmallFileBytes);
        return file.IsFile ? file.Text : null;
    }

    private void WriteSmallQuietly(string name, string text)
    {
        try
        {
            ReplaceOwnFile(name, text);
        }
        catch (StoreException)
        {
            try { _meta!.RemoveAny(ScratchName); } catch (StoreException) { }
        }
    }

    /// <summary>Atomically replaces a file of .cniveth; whatever else holds its name (a directory) is ours
    /// and goes first.</summary>
    private void ReplaceOwnFile(string name, string text)
    {
        _meta!.WriteNewFile(ScratchName, text);
        try
        {
            _meta.RenameFrom(_meta, ScratchName, name);
        }
        catch (StoreException)
        {
            if (_meta.Stat(name) is not { } st || (st.stx_mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFDIR) throw;
            _meta.RemoveAny(name);
            _meta.RenameFrom(_meta, ScratchName, name);
        }
    }

    private void WriteStamp()
    {
        // A second in the past: no later write by anyone can produce this mtime.
        long unixTicks = DateTimeOffset.UtcNow.AddSeconds(-1).UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = unixTicks / TimeSpan.TicksPerSecond;
        long nanoseconds = unixTicks % TimeSpan.TicksPerSecond * 100;
        _dir.SetModifyTime(seconds, nanoseconds);
        var stamp = new IndexStamp(IndexStamp.TimeText(_dir.StatSelf().stx_mtime), IndexStamp.TimeText(_owners!.StatSelf().stx_mtime),
            OwnerIndex.Format, _bootId.Length > 0 ? _bootId : null);
        ReplaceOwnFile(StampFile, stamp.Text);
    }

    private void RemoveStampQuietly()
    {
        try { _meta?.RemoveAny(StampFile); } catch (StoreException) { }
    }

    public void Dispose()
    {
        try
        {
            if (_writable && _meta is not null)
            {
                if (_mutating || !_index.Vouchable) RemoveStampQuietly();
                else if (_changed)
                {
                    try { WriteStamp(); }
                    catch (StoreException) { RemoveStampQuietly(); } // a missing stamp only costs a rebuild
                }
            }
            if (_notes.Count > 0) _options.Note("cniveth: " + _dir.Path + ": " + string.Join("; ", _notes));
        }
        finally
        {
            _owners?.Dispose();
            _meta?.Dispose();
            _lock?.Dispose();
            _dir.Dispose();
        }
    }
}
