namespace CniVeth.Netlink;

/// <summary>
/// Requests sent together (one send per chunk, see NetlinkSocket.Execute), each carrying its own
/// description, tolerated errnos and outcome, so callers read the outcome of the request they made
/// instead of matching replies to labels by index. Family-specific builders (RouteBatch) encode the
/// messages; this class only pairs them with their acks.
/// </summary>
internal sealed class RequestBatch
{
    private readonly List<NetlinkOp> _ops = new();

    /// <summary>Where the next request is encoded; every message must ask for an ack (NLM_F_ACK).</summary>
    public NetlinkMessageBuilder Messages { get; } = new();

    public int Count => _ops.Count;

    /// <summary>Records the message just encoded into <see cref="Messages"/>.</summary>
    public NetlinkOp Record(string description, int[] tolerated)
    {
        if (Messages.Count != _ops.Count + 1)
            throw new InvalidOperationException("exactly one message must be encoded per recorded request");
        var op = new NetlinkOp(description, tolerated);
        _ops.Add(op);
        return op;
    }

    /// <summary>Sends every request in order and records each outcome; then throws the first failure that
    /// is not tolerated (later requests were still sent: the caller's rollback sees every outcome).</summary>
    public void Send(NetlinkSocket socket)
    {
        if (_ops.Count == 0) return;
        NetlinkAck[] acks = socket.Execute(Messages);
        for (int i = 0; i < _ops.Count; i++) _ops[i].Complete(acks[i]);
        foreach (NetlinkOp op in _ops)
            if (!op.Done) throw op.ToException();
    }
}
