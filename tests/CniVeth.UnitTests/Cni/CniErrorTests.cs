using CniVeth.Cni;
using CniVeth.Netlink;
using CniVeth.Namespaces;

namespace CniVeth.UnitTests.Cni;

/// <summary>The one mapping from a failure to what the runtime sees, shared by the reply, the log and teardown.</summary>
public class CniErrorTests
{
    [Fact]
    public void TypedFailuresKeepTheirCodes()
    {
        Assert.Equal(new CniError(7, "bad", "hint"), CniError.From(CniException.Config("bad", "hint")));
        Assert.Equal(999, CniError.From(new NetlinkException("creating veth \"v\"", Errno.EEXIST)).Code);
        Assert.Equal(3, CniError.From(new NetNamespaceException("gone", NetNsProblem.NotFound)).Code);
        Assert.Equal(4, CniError.From(new NetNamespaceException("not one", NetNsProblem.NotANamespace)).Code);
    }

    [Fact]
    public void ForeignExceptionsAre999WithoutStackTrace()
    {
        var e = CniError.From(new InvalidOperationException("boom"));
        Assert.Equal(999, e.Code);
        Assert.Equal("internal error: boom", e.Message);
        Assert.Equal("InvalidOperationException", e.Details);
        Assert.Equal(new CniError(999, "reading from stdin: EIO", ""), CniError.From(new IOException("reading from stdin: EIO")));
    }

    [Fact]
    public void ASingleAggregatedFailureIsUnwrapped() =>
        Assert.Equal(11, CniError.From(new AggregateException(new CniException(11, "busy"))).Code);

    [Fact]
    public void TeardownReportsTheSharedCodeOr999()
    {
        var same = new TeardownErrors();
        same.Add(new CniException(11, "lock a"));
        same.Try(() => throw new CniException(11, "lock b"));
        var e = Assert.Throws<CniException>(() => same.ThrowIfAny("DEL", "retry"));
        Assert.Equal(11, e.Code);
        Assert.Equal("DEL: lock a; lock b", e.Message);

        var mixed = new TeardownErrors();
        mixed.Add(new CniException(5, "disk"));
        mixed.Add(new NetlinkException("deleting veth \"v\"", Errno.EBUSY));
        Assert.Equal(999, Assert.Throws<CniException>(() => mixed.ThrowIfAny("DEL", "")).Code);

        new TeardownErrors().ThrowIfAny("nothing failed", ""); // no throw
    }
}
