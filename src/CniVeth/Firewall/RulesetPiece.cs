using CniVeth.Netlink;
using CniVeth.Netlink.NfTables;

namespace CniVeth.Firewall;

/// <summary>
/// Elements to add to one set or map. When the kernel refuses them with EEXIST (a different element holds
/// the key: an overlapping interval, a port name mapped to another MAC), <see cref="Resolve"/> reads the
/// set and says what to delete first and what to add instead; both then go into the same atomic batch.
/// Without a resolver EEXIST is an error.
/// </summary>
internal sealed class ElementGroup(byte family, string set, NftElement[] elements)
{
    public byte Family { get; } = family;
    public string Set { get; } = set;
    /// <summary>What is added (a resolution may change it; empty: nothing to add).</summary>
    public NftElement[] Elements { get; internal set; } = elements;
    /// <summary>Deleted in the same batch, before the elements are added (set by a resolution).</summary>
    internal List<SetElement> DeleteFirst { get; set; } = [];
    /// <summary>Reads the kernel and returns (delete first, add instead).</summary>
    public Func<(List<SetElement> Delete, NftElement[] Add)>? Resolve { get; init; }
    internal NetlinkOp? AddOp { get; set; }
    internal List<NetlinkOp> DeleteOps { get; } = [];
}

/// <summary>
/// One piece of our ruleset that containers are added to as elements: a table's base chain, the piece's
/// sets and its one rule, declared here and (re-)created whenever the rule is missing from the chain.
/// RulesetWriter turns a list of pieces into the fewest atomic batches.
/// </summary>
internal sealed class RulesetPiece
{
    /// <summary>Table family, to declare each table's base chain once per batch.</summary>
    public required byte Family { get; init; }
    /// <summary>The base chain the piece's rule is in (its rules are read with one dump per chain).</summary>
    public required string Chain { get; init; }
    /// <summary>Adds the table and base chain (idempotent).</summary>
    public required Action<NftBatch> DeclareChain { get; init; }
    /// <summary>Adds the piece's sets (idempotent).</summary>
    public required Action<NftBatch> DeclareSets { get; init; }
    /// <summary>Adds the piece's rule.</summary>
    public required Action<NftBatch> DeclareRule { get; init; }
    /// <summary>Recognises the piece's rule among the table's rules.</summary>
    public required Func<NftRule, bool> IsRule { get; init; }
    /// <summary>Recognises a rule of an older layout that the piece's rule replaces.</summary>
    public Func<NftRule, bool>? IsLegacyRule { get; init; }
    /// <summary>Carries the state of the legacy layout over into the batch that replaces the legacy rule.</summary>
    public Action<NftBatch>? MigrateLegacy { get; init; }
    public required List<ElementGroup> Groups { get; init; }

    /// <summary>This ADD added the rule (then duplicates from concurrent ADDs are removed afterwards).</summary>
    internal bool AddedRule { get; set; }
    /// <summary>A set was missing although the rule was there (a set the rule does not reference).</summary>
    internal bool EnsureSets { get; set; }
}

/// <summary>
/// The one path that adds elements to RulesetPieces. It reads the rules of the pieces' chains (one dump
/// per chain, whatever the number of containers), then sends one atomic batch: in the steady state only the elements. A
/// piece whose rule is missing (first use, a flushed chain, a deleted chain or table) also gets its table,
/// chain, sets and rule in that batch; a rule of an older layout is replaced there. Failed requests move
/// the batch on: ENOENT (the ruleset changed under us) reads the rules again, EEXIST on elements runs
/// their group's resolver. Nothing of a failed batch is applied, so every retry starts from the same
/// ruleset. Rules added by ADDs that raced are deduplicated afterwards: every such ADD keeps the oldest
/// (lowest handle) and deletes the others, so they all converge on one rule.
/// </summary>
internal static class RulesetWriter
{
    private const int MaxAttempts = 8;

    public static void Add(NfTablesClient client, IReadOnlyList<RulesetPiece> pieces, string operation)
    {
        NftRule[] rules = ReadRules(client, pieces, operation);
        bool addedRules = false;
        for (int attempt = 0; ; attempt++)
        {
            var batch = new NftBatch();
            var declaredChains = new HashSet<byte>();
            var ruleOps = new List<NetlinkOp>();
            foreach (RulesetPiece piece in pieces)
            {
                bool hasRule = false, hasLegacy = false;
                foreach (NftRule r in rules)
                {
                    hasRule |= piece.IsRule(r);
                    hasLegacy |= piece.IsLegacyRule?.Invoke(r) == true;
                }
                piece.AddedRule = !hasRule;
                if (!hasRule || hasLegacy || piece.EnsureSets)
                {
                    if (declaredChains.Add(piece.Family)) piece.DeclareChain(batch);
                    piece.DeclareSets(batch);
                }
                if (hasLegacy)
                {
                    piece.MigrateLegacy?.Invoke(batch);
                    foreach (NftRule r in rules)
                        if (piece.IsLegacyRule!(r)) ruleOps.Add(batch.DelRule(r.Family, r.Table, r.Chain, r.Handle));
                }
                if (!hasRule) piece.DeclareRule(batch);
                foreach (ElementGroup g in piece.Groups)
                {
                    g.DeleteOps.Clear();
                    foreach (SetElement d in g.DeleteFirst)
                        g.DeleteOps.Add(batch.DelElements(d.Family, FirewallLayout.TableName, d.Set, [d.Element]));
                    g.AddOp = g.Elements.Length > 0 ? batch.AddElements(g.Family, FirewallLayout.TableName, g.Set, g.Elements) : null;
                }
            }
            if (batch.Count == 0 || client.Send(batch, operation))
            {
                foreach (RulesetPiece piece in pieces) addedRules |= piece.AddedRule;
                break;
            }

            bool progress = false, reread = false;
            var understood = new HashSet<NetlinkOp>();
            foreach (NetlinkOp op in ruleOps)
                if (op.Errno == Errno.ENOENT) { understood.Add(op); reread = true; } // another ADD replaced it
            foreach (RulesetPiece piece in pieces)
            {
                foreach (ElementGroup g in piece.Groups)
                {
                    NetlinkOp? failedDelete = g.DeleteOps.Find(o => !o.Succeeded && o.Errno == Errno.ENOENT);
                    bool addMissing = g.AddOp is { Succeeded: false } add && add.Errno == Errno.ENOENT;
                    if (addMissing || failedDelete is not null)
                    {
                        // A set or element changed under us: read again, and resolve again if we had.
                        if (addMissing) understood.Add(g.AddOp!);
                        if (failedDelete is not null) understood.Add(failedDelete);
                        piece.EnsureSets = true;
                        reread = true;
                        if (g.DeleteFirst.Count > 0 && g.Resolve is { } again) (g.DeleteFirst, g.Elements) = again();
                    }
                    else if (g.AddOp is { Succeeded: false } conflict && conflict.Errno == Errno.EEXIST && g.Resolve is { } resolve)
                    {
                        understood.Add(conflict);
                        (g.DeleteFirst, g.Elements) = resolve();
                        progress = true;
                    }
                }
            }
            if (reread)
            {
                rules = ReadRules(client, pieces, operation);
                progress = true;
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
        if (addedRules) RemoveDuplicateRules(client, pieces, operation);
    }

    /// <summary>The rules of the chains the pieces use: one dump per chain (the kernel filters a rule dump
    /// by family, table and chain; asked for a table name in every family it stops after the first table).</summary>
    private static NftRule[] ReadRules(NfTablesClient client, IReadOnlyList<RulesetPiece> pieces, string operation)
    {
        NftRule[] rules = [];
        var read = new HashSet<byte>();
        foreach (RulesetPiece piece in pieces)
        {
            if (!read.Add(piece.Family)) continue;
            NftRule[] more = client.DumpRules(piece.Family, FirewallLayout.TableName, piece.Chain, operation);
            if (rules.Length == 0) { rules = more; continue; }
            var both = new NftRule[rules.Length + more.Length];
            rules.CopyTo(both, 0);
            more.CopyTo(both, rules.Length);
            rules = both;
        }
        return rules;
    }

    /// <summary>After adding rules: of each piece's rule keep the oldest copy (lowest handle) and delete
    /// the rest, which ADDs racing with this one may have added. Every racer does the same, so they agree.</summary>
    private static void RemoveDuplicateRules(NfTablesClient client, IReadOnlyList<RulesetPiece> pieces, string operation)
    {
        for (int attempt = 0; ; attempt++)
        {
            NftRule[] rules = ReadRules(client, pieces, operation);
            var batch = new NftBatch();
            foreach (RulesetPiece piece in pieces)
            {
                if (!piece.AddedRule) continue;
                NftRule? oldest = null;
                foreach (NftRule r in rules)
                    if (piece.IsRule(r) && (oldest is null || r.Handle < oldest.Handle)) oldest = r;
                foreach (NftRule r in rules)
                    if (r != oldest && piece.IsRule(r)) batch.DelRule(r.Family, r.Table, r.Chain, r.Handle);
            }
            if (batch.Count == 0 || client.Send(batch, operation)) return;
            NetlinkOp? bad = batch.Ops.FirstOrDefault(o => !o.Succeeded && o.Errno != Errno.ENOENT);
            if (bad is not null || attempt >= MaxAttempts)
            {
                NetlinkOp failed = bad ?? batch.Ops.First(o => !o.Succeeded);
                throw new NetlinkException($"{operation} ({failed.Description})", failed.Errno, failed.KernelMessage);
            }
            // Another ADD deleted one of them first: look again.
        }
    }
}
