using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using CniVeth.Bridge;
using CniVeth.Cni;
using CniVeth.Ipam.Config;
using CniVeth.Netlink;
using CniVeth.Netlink.Route;
using CniVeth.UnitTests.Cni;
using CniVeth.Skel;
using CniVeth.UnitTests.Skel;

namespace CniVeth.UnitTests.Fuzz;

/// <summary>
/// Seeded random mutation fuzzing (no coverage-guided fuzzer is available from the package mirror):
/// the seeds are valid configs, the hand-written corpus cases and valid rtnetlink replies; each
/// iteration applies 1-4 random mutations (bit flips, byte changes, truncation, splices, JSON-aware
/// token swaps) and runs the input through the real parsers. Fixed seed in CI; FUZZ_ITERATIONS and
/// FUZZ_SEED (set by `make soak`) run it longer or differently. A failure prints the seed, the
/// iteration and the input so it can be replayed.
/// </summary>
public class MutationFuzzTests
{
    private static int Iterations(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out int n) && n > 0 ? n : fallback;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out int s) ? s : 20240611;

    private const string BaseConfig = """
        {"cniVersion":"1.1.0","name":"fuzz","type":"cniveth","bridge":"cni0","isGateway":true,"ipMasq":true,
         "mtu":1500,"hairpinMode":false,"vlan":0,"capabilities":{"mac":true,"ips":true},
         "runtimeConfig":{"mac":"c2:11:22:33:44:55","ips":["10.1.0.9/24"]},
         "args":{"cni":{"ips":["10.1.0.7"]}},
         "ipam":{"type":"host-local","dataDir":"/var/lib/cni/networks","resolvConf":"",
                 "routes":[{"dst":"0.0.0.0/0"},{"dst":"fd00::/8","gw":"fd00:1::1"}],
                 "ranges":[[{"subnet":"10.1.0.0/24","rangeStart":"10.1.0.5","rangeEnd":"10.1.0.50","gateway":"10.1.0.1"}],
                           [{"subnet":"fd00:1::/64"}]]},
         "dns":{"nameservers":["10.1.0.1"],"domain":"example","search":["a","b"],"options":["ndots:2"]},
         "prevResult":{"cniVersion":"1.1.0","interfaces":[{"name":"cni0","mac":"c2:11:22:33:44:55"},
           {"name":"eth0","sandbox":"/run/netns/x"}],"ips":[{"address":"10.1.0.5/24","gateway":"10.1.0.1","interface":1}],
           "routes":[{"dst":"0.0.0.0/0","gw":"10.1.0.1"}],"dns":{}}}
        """;

    private static readonly string[] Tokens =
    [
        "null", "true", "false", "0", "-1", "1e400", "\"\"", "[]", "{}", "\"../x\"", "\"a/b\"", "\"10.1.0.0/33\"",
        "\"::/129\"", "\"0x0a.0.0.1\"", "\"fd00::1\"", "1.5", "\"\\u0000\"", "[[[[[[[[[[[[1]]]]]]]]]]]]", "\"ä\"",
        "\"1.1.0\"", "\"0.3.1\"", "\"2.0.0\"", "\"host-local\"", "\"/bin/sh\"", "99999999999999999999",
    ];

    private static List<byte[]> ConfigSeeds()
    {
        var seeds = new List<byte[]> { Encoding.UTF8.GetBytes(BaseConfig) };
        seeds.Add(Encoding.UTF8.GetBytes("""{"cniVersion":"0.3.1","name":"old","type":"cniveth","ipam":{"type":"host-local","subnet":"10.2.0.0/16","gateway":"10.2.0.1"}}"""));
        seeds.Add(Encoding.UTF8.GetBytes("""{"cniVersion":"1.1.0","name":"gc","type":"cniveth","cni.dev/valid-attachments":[{"containerID":"a","ifname":"eth0"}],"ipam":{"type":"host-local","ranges":[[{"subnet":"10.3.0.0/24"}]]}}"""));
        string? hand = FindCorpus();
        if (hand is not null)
            foreach (string file in Directory.GetFiles(Path.Combine(hand, "hand"), "*.case").Order())
            {
                string text = File.ReadAllText(file);
                int sep = text.IndexOf("\n--\n", StringComparison.Ordinal);
                if (sep >= 0) seeds.Add(Encoding.UTF8.GetBytes(text[(sep + 4)..].Replace("@DATADIR", "/var/lib/cni/networks")));
            }
        return seeds;
    }

    private static string? FindCorpus()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "corpus");
            if (Directory.Exists(candidate)) return candidate;
        }
        return null;
    }

    internal static byte[] Mutate(Random rng, byte[] input)
    {
        var data = new List<byte>(input);
        int rounds = 1 + rng.Next(4);
        for (int r = 0; r < rounds; r++)
        {
            int pos = data.Count == 0 ? 0 : rng.Next(data.Count);
            switch (rng.Next(8))
            {
                case 0 when data.Count > 0: data[pos] ^= (byte)(1 << rng.Next(8)); break;
                case 1 when data.Count > 0: data[pos] = (byte)rng.Next(256); break;
                case 2: data.RemoveRange(pos, Math.Min(rng.Next(1, 16), data.Count - pos)); break;
                case 3: data.RemoveRange(pos, data.Count - pos); break; // truncate
                case 4 when data.Count > 0: // splice a slice of the input elsewhere
                    int from = rng.Next(data.Count), len = Math.Min(rng.Next(1, 64), data.Count - from);
                    data.InsertRange(pos, data.GetRange(from, len));
                    break;
                case 5: data.InsertRange(pos, Encoding.UTF8.GetBytes(Tokens[rng.Next(Tokens.Length)])); break;
                case 6: // JSON-aware: replace the value after a ':' by a token
                    int colon = data.IndexOf((byte)':', pos);
                    if (colon < 0) break;
                    int end = colon + 1;
                    while (end < data.Count && data[end] is not ((byte)',' or (byte)'}' or (byte)']')) end++;
                    data.RemoveRange(colon + 1, end - colon - 1);
                    data.InsertRange(colon + 1, Encoding.UTF8.GetBytes(Tokens[rng.Next(Tokens.Length)]));
                    break;
                default: data.Insert(pos, (byte)"{}[]\",:\\"[rng.Next(8)]); break;
            }
        }
        return data.ToArray();
    }

    /// <summary>A plugin that runs the real config checks of the bridge and host-local, without the kernel.</summary>
    private sealed class ParsingPlugin : ICniPlugin
    {
        public string Name => "fuzz";
        public Result Add(CniRequest r) { Parse(r); return new Result(); }
        public void Del(CniRequest r) => Parse(r);
        public void Check(CniRequest r) => Parse(r);
        public void Gc(CniRequest r) { Parse(r); _ = ValidAttachments.FromConfig(r.Conf); }
        public void Status(CniRequest r) => Parse(r);

        private static void Parse(CniRequest r)
        {
            BridgeConfig.Validate(r.Conf, r.Version);
            _ = r.Mac;
            if (r.Conf.Ipam?.Type == "host-local") _ = IpamConfig.FromRequest(r);
        }
    }

    [Fact]
    public void MutatedConfigsAndEnvironmentsNeverCrashTheHost()
    {
        var rng = new Random(Seed);
        var seeds = ConfigSeeds();
        string[] verbs = ["ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION"];
        string[] args = ["", "IgnoreUnknown=1;IP=10.1.0.9", "IP=10.1.0.9", "MAC=zz", "a=b=c", ";;", "IgnoreUnknown=1;IP=0x0a.1.0.9"];
        string[] ids = ["abc", "../x", "a/b", "", "ä", new string('a', 300)];
        string[] ifnames = ["eth0", "", "a/b", "..", "abcdefghijklmnop", "eth 0"];
        int iterations = Iterations(20_000);
        var plugin = new ParsingPlugin();
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = Mutate(rng, seeds[rng.Next(seeds.Count)]);
            var env = HostHarness.Env(verbs[rng.Next(verbs.Length)]);
            env["CNI_ARGS"] = args[rng.Next(args.Length)];
            env["CNI_CONTAINERID"] = ids[rng.Next(ids.Length)];
            env["CNI_IFNAME"] = ifnames[rng.Next(ifnames.Length)];
            HostRun run;
            try { run = HostHarness.Run(plugin, env, input); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"seed {Seed} iteration {i}: {e.GetType().Name} escaped PluginHost.Run: {e.Message}\ninput: {Encoding.UTF8.GetString(input)}"); }
            if (run.ExitCode == 0) continue;
            string where = $"seed {Seed} iteration {i} ({env["CNI_COMMAND"]}): {run.Stdout}\ninput: {Encoding.UTF8.GetString(input)}";
            Assert.True(run.ExitCode == 1, where);
            using var reply = JsonDocument.Parse(run.Stdout);
            int code = reply.RootElement.GetProperty("code").GetInt32();
            string msg = reply.RootElement.GetProperty("msg").GetString() ?? "";
            Assert.True(msg.Length > 0, "empty msg: " + where);
            // an exception that is not a CniException is reported as "internal error: ..." (ErrorReply)
            Assert.False(code == ErrorCode.Internal && msg.StartsWith("internal error:", StringComparison.Ordinal),
                "unexpected exception: " + where);
            Assert.DoesNotContain("   at ", run.Stdout + run.Stderr);
        }
    }

    // ---- netlink decoders ----------------------------------------------------------------------

    private static byte[] Attr(ushort type, byte[] payload)
    {
        int len = 4 + payload.Length;
        var b = new byte[(len + 3) & ~3];
        BinaryPrimitives.WriteUInt16LittleEndian(b, (ushort)len);
        BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(2), type);
        payload.CopyTo(b, 4);
        return b;
    }

    private static byte[] Message(ushort type, byte[] fixedHeader, params byte[][] attrs)
    {
        byte[] body = [.. fixedHeader, .. attrs.SelectMany(a => a)];
        var msg = new byte[16 + body.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(msg, (uint)msg.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(msg.AsSpan(4), type);
        body.CopyTo(msg, 16);
        return msg;
    }

    private static byte[] Z(string s) => [.. Encoding.ASCII.GetBytes(s), 0];
    private static byte[] U32(uint v) { var b = new byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); return b; }

    private static List<byte[]> NetlinkSeeds()
    {
        byte[] ifinfo = new byte[16]; ifinfo[0] = 0; BinaryPrimitives.WriteInt32LittleEndian(ifinfo.AsSpan(4), 7);
        byte[] linkinfo = [.. Attr(Rtnl.IFLA_INFO_KIND, Z("veth")), .. Attr(Rtnl.IFLA_INFO_SLAVE_KIND, Z("bridge"))];
        byte[] link = Message(16, ifinfo, Attr(Rtnl.IFLA_IFNAME, Z("veth0")), Attr(Rtnl.IFLA_ADDRESS, [2, 0, 0, 0, 0, 1]),
            Attr(Rtnl.IFLA_MTU, U32(1500)), Attr(Rtnl.IFLA_MASTER, U32(3)), Attr(Rtnl.IFLA_OPERSTATE, [6]),
            Attr(Rtnl.IFLA_IFALIAS, Z("cniveth net c1 eth0")), Attr((ushort)(Rtnl.IFLA_LINKINFO | 0x8000), linkinfo));
        byte[] ifaddr = [2, 24, 0, 0, 7, 0, 0, 0];
        byte[] addr = Message(20, ifaddr, Attr(Rtnl.IFA_LOCAL, [10, 1, 0, 5]), Attr(Rtnl.IFA_ADDRESS, [10, 1, 0, 5]), Attr(Rtnl.IFA_FLAGS, U32(0x80)));
        byte[] addr6 = Message(20, [10, 64, 0, 0, 7, 0, 0, 0], Attr(Rtnl.IFA_ADDRESS, new byte[16]));
        byte[] rtmsg = [2, 0, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0];
        byte[] route = Message(24, rtmsg, Attr(Rtnl.RTA_GATEWAY, [10, 1, 0, 1]), Attr(Rtnl.RTA_OIF, U32(7)), Attr(Rtnl.RTA_TABLE, U32(254)));
        byte[] errHeader = [.. U32(unchecked((uint)-17)), .. new byte[16]];
        byte[] error = Message(2, errHeader, Attr(1, Z("File exists")));
        BinaryPrimitives.WriteUInt16LittleEndian(error.AsSpan(6), 0x300); // CAPPED | ACK_TLVS
        return [link, addr, addr6, route, error];
    }

    [Fact]
    public void MutatedNetlinkRepliesOnlyRaiseNetlinkException()
    {
        var rng = new Random(Seed);
        var seeds = NetlinkSeeds();
        int iterations = Iterations(20_000);
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = Mutate(rng, seeds[rng.Next(seeds.Count)]);
            // NextMessage is the gate every reply passes before a decoder sees it
            ReadOnlySpan<byte> rest = input;
            int guard = 0;
            while (NetlinkSocket.NextMessage(ref rest, out ushort type, out _, out _, out ReadOnlySpan<byte> msg) && guard++ < 64)
            {
                byte[] copy = msg.ToArray();
                foreach (var decode in Decoders)
                {
                    try { decode(copy); }
                    catch (NetlinkException) { }
                    catch (Exception e)
                    {
                        throw new Xunit.Sdk.XunitException(
                            $"seed {Seed} iteration {i}: {e.GetType().Name} from a decoder of message type {type}: {e.Message}\n{Convert.ToHexString(copy)}");
                    }
                }
            }
            var r = new AttributeReader(input);
            int n = 0;
            while (r.Next(out _, out ReadOnlySpan<byte> v) && n++ < 1000) { _ = AttributeReader.String(v); _ = AttributeReader.U32(v); }
        }
    }

    private static readonly Action<byte[]>[] Decoders =
    [
        m => LinkInfo.Parse(m),
        m => AddressInfo.Parse(m),
        m => RouteInfo.Parse(m),
        m => NetlinkSocket.ParseError(m),
    ];
}
