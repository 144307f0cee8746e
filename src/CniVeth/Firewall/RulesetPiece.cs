using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;

namespace CniVeth.Firewall;

/// <summary>What to do when adding an element fails with EEXIST (a different element already holds its key).</summary>
internal enum OnConflict
{
    /// <summary>Fail the whole operation.</summary>
    Fail,
    /// <summary>Leave the existing element and drop ours (a subnet interval overlapping one already there).</summary>
    KeepExisting,
    /// <summary>Run <see cref="ElementGroup.Replace"/> once to clear the way, then add ours (a reused port name).</summary>
    Replace,
}

/// <summary>Elements to add to one set or map, and how an EEXIST conflict is resolved.</summary>
internal sealed class ElementGroup(byte family, string set, NftElement[] elements, OnConflict onConflict = OnConflict.Fail)
{
    public byte Family { get; } = family;
    public string Set { get; } = set;
    public NftElement[] Elements { get; } = elements;
    public OnConflict OnConflict { get; } = onConflict;
    /// <summary>For OnConflict.Replace: removes whatever holds the key.</summary>
    public Action? Replace { get; init; }
    internal NetlinkOp? Op { get; set; }
    internal bool Replaced { get; set; }
}

/// <summary>
/// One piece of our ruleset that containers are added to as elements: a table's base chain, the piece's
/// sets and its one rule, declared here and created the first time an element finds them missing.
/// RulesetWriter turns a list of pieces into the fewest atomic batches.
/// </summary>
internal sealed class RulesetPiece
{
    /// <summary>Table family, to declare each table's base chain once per batch.</summary>
    public required byte Family { get; init; }
    /// <summary>Adds the table and base chain (idempotent).</summary>
    public required Action<NftBatch> DeclareChain { get; init; }
    /// <summary>Adds the piece's sets; the returned op is the set created exclusively when asked.</summary>
    public required Func<NftBatch, bool, NetlinkOp> DeclareSets { get; init; }
    /// <summary>Adds the piece's rule (only by the process whose exclusive set creation won).</summary>
    public required Action<NftBatch> DeclareRule { get; init; }
    public required List<ElementGroup> Groups { get; init; }

    internal PieceState State { get; set; } = PieceState.ElementsOnly;
}

internal enum PieceState
{
    /// <summary>Steady state: the objects exist, add elements only.</summary>
    ElementsOnly,
    /// <summary>Objects missing: create sets (the first exclusively) and the rule.</summary>
    Create,
    /// <summary>Another process created them first: re-declare sets (idempotent), no rule.</summary>
    EnsureSets,
}

/// <summary>
/// The one retry path for adding elements to RulesetPieces. First attempt: elements only, every piece in
/// one atomic batch (the steady state: one nf_tables commit). Each failed request then moves its piece
/// on: missing objects (ENOENT) are created, a lost creation race (EEXIST on the exclusive set) becomes
/// "ensure", and element conflicts follow their group's OnConflict. Nothing is applied by a failed batch,
/// so every retry starts from the same ruleset.
/// </summary>
internal static class RulesetWriter
{
    private const int MaxAttempts = 8;

    public static void Add(NfTablesClient client, IReadOnlyList<RulesetPiece> pieces, string operation)
    {
        for (int attempt = 0; ; attempt++)
        {
            var batch = new NftBatch();
            var exclusive = new Dictionary<RulesetPiece, NetlinkOp>();
            var declaredChains = new HashSet<byte>();
            foreach (RulesetPiece piece in pieces)
            {
                if (piece.State != PieceState.ElementsOnly && declaredChains.Add(piece.Family)) piece.DeclareChain(batch);
                if (piece.State == PieceState.Create)
                {
                    exclusive[piece] = piece.DeclareSets(batch, true);
                    piece.DeclareRule(batch);
                }
                else if (piece.State == PieceState.EnsureSets)
                {
                    piece.DeclareSets(batch, false);
                }
                foreach (ElementGroup g in piece.Groups)
                    g.Op = batch.AddElements(g.Family, FirewallLayout.TableName, g.Set, g.Elements);
            }
            if (batch.Count == 0 || client.Send(batch, operation)) return;

            bool progress = false;
            var understood = new HashSet<NetlinkOp>();
            foreach (RulesetPiece piece in pieces)
            {
                if (exclusive.TryGetValue(piece, out NetlinkOp? set) && set.Errno == Errno.EEXIST)
                {
                    piece.State = PieceState.EnsureSets; // another process created the sets and rule first
                    understood.Add(set);
                    progress = true;
                }
                foreach (ElementGroup g in piece.Groups.ToList())
                {
                    if (g.Op is not { Succeeded: false } op) continue;
                    if (op.Errno == Errno.ENOENT)
                    {
                        understood.Add(op);
                        if (piece.State == PieceState.ElementsOnly) { piece.State = PieceState.Create; progress = true; }
                    }
                    else if (op.Errno == Errno.EEXIST && g.OnConflict == OnConflict.KeepExisting)
                    {
                        understood.Add(op);
                        piece.Groups.Remove(g);
                        progress = true;
                    }
                    else if (op.Errno == Errno.EEXIST && g.OnConflict == OnConflict.Replace && !g.Replaced)
                    {
                        understood.Add(op);
                        g.Replace?.Invoke();
                        g.Replaced = true;
                        progress = true;
                    }
                }
            }
            // Any other failure (of a declaration, or an element) is the kernel's final word.
            NetlinkOp? fatal = batch.Ops.FirstOrDefault(o => !o.Succeeded && !understood.Contains(o));
            if (fatal is not null && (!progress || attempt >= MaxAttempts))
                throw new NetlinkException($"{operation} ({fatal.Description})", fatal.Errno, fatal.KernelMessage);
            if (!progress || attempt >= MaxAttempts)
            {
                NetlinkOp first = batch.Ops.First(o => !o.Succeeded);
                throw new NetlinkException($"{operation} (the ruleset kept changing; last: {first.Description})", first.Errno, first.KernelMessage);
            }
        }
    }
}
