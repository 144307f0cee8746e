using CniVeth.Namespaces;
using CniVeth.UnitTests.Support;

namespace CniVeth.UnitTests.Namespaces;

/// <summary>What CNI_NETNS may be: only an nsfs file of a network namespace, told apart without entering it.</summary>
public class NetNamespaceTests
{
    [Fact]
    public void OwnNamespaceIsRecognisedByIdentity()
    {
        Assert.True(NamespaceIdentity.IsOwn("/proc/self/ns/net"));
        Assert.True(NamespaceIdentity.IsOwn($"/proc/{Environment.ProcessId}/ns/net"));
        Assert.False(NamespaceIdentity.IsOwn("/proc/self/ns/uts")); // not a network namespace
        Assert.False(NamespaceIdentity.IsOwn("/nonexistent/netns"));
        Assert.False(NamespaceIdentity.IsOwn("/etc/hostname"));
    }

    [Fact]
    public void TheCurrentNamespaceOpens()
    {
        using var ns = NetNamespace.Current();
        Assert.False(ns.Fd.IsInvalid);
    }

    [Theory]
    [InlineData("/nonexistent/netns", "NotFound", 3)]
    [InlineData("/proc/self/status", "NotANamespace", 4)]   // a procfs file, not nsfs
    [InlineData("/etc/hostname", "NotANamespace", 4)]
    [InlineData("/proc/self/ns/uts", "NotANamespace", 4)]   // nsfs, but another kind
    [InlineData("/proc/self/ns/mnt", "NotANamespace", 4)]
    public void AnythingElseIsRefusedWithTheRightCode(string path, string problem, int code)
    {
        var e = Assert.Throws<NetNamespaceException>(() => NetNamespace.Open(path));
        Assert.Equal(problem, e.Problem.ToString());
        Assert.Equal(code, e.Code);
        Assert.Contains(path, e.Message);
    }

    /// <summary>From a thread in a fresh namespace, into the test process's own namespace (only looked at) and back.</summary>
    [RootFact]
    public void RunEntersAndAlwaysReturns()
    {
        string processNs = $"/proc/{Environment.ProcessId}/ns/net";
        Netns.Run(_ =>
        {
            string self = "/proc/thread-self/ns/net";
            using var home = NetNamespace.Current();
            using var other = NetNamespace.Open(processNs);
            Assert.False(SameAs(self, other));
            Assert.True(other.Run(home, () => SameAs(self, other)));
            Assert.True(SameAs(self, home));
            Assert.Throws<InvalidOperationException>(() => other.Run<int>(home, () => throw new InvalidOperationException("x")));
            Assert.True(SameAs(self, home)); // back home after a failure too
        });
    }

    private static bool SameAs(string path, NetNamespace ns) =>
        new FileInfo(path).LinkTarget == new FileInfo("/proc/self/fd/" + ns.Fd.Fd).LinkTarget;
}
