using CniVeth.Netlink;

namespace CniVeth.UnitTests.Netlink;

/// <summary>Each request of a batch carries its description, tolerated errnos and outcome.</summary>
public class RequestBatchTests
{
    [Fact]
    public void OutcomesAndToleratedErrnos()
    {
        var ok = new NetlinkOp("adding address 10.0.0.1/24", []);
        var exists = new NetlinkOp("adding gateway 10.0.0.1/24", [Errno.EEXIST]);
        var failed = new NetlinkOp("adding route", [Errno.EEXIST]);
        Assert.False(ok.Sent);
        ok.Complete(new NetlinkAck(0, null));
        exists.Complete(new NetlinkAck(Errno.EEXIST, null));
        failed.Complete(new NetlinkAck(Errno.ENETUNREACH, "Nexthop has invalid gateway"));
        Assert.True(ok.Succeeded && ok.Done);
        Assert.False(exists.Succeeded);
        Assert.True(exists.Done);
        Assert.False(failed.Done);
        Assert.Equal("adding route: ENETUNREACH (network is unreachable) (kernel: Nexthop has invalid gateway)", failed.ToException().Message);
    }

    [Fact]
    public void EachRecordedRequestIsExactlyOneMessage()
    {
        var batch = new RequestBatch();
        Assert.Throws<InvalidOperationException>(() => batch.Record("nothing encoded", []));
        batch.Messages.BeginMessage(16, Nl.F_ACK).EndMessage();
        batch.Record("one", []);
        Assert.Equal(1, batch.Count);
    }
}
