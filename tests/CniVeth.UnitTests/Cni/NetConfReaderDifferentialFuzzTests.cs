using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CniVeth.Cni;
using CniVeth.UnitTests.Fuzz;
using Xunit.Abstractions;

namespace CniVeth.UnitTests.Cni;

/// <summary>
/// NetConfReader (hand-written over Utf8JsonReader) against the System.Text.Json reader it replaced (kept in
/// Oracle/): for every input both give the same bound values (NetConfDump) or the same error code, message
/// and details. Inputs: every case of the bad-input corpus (tests/corpus: generate.sh and hand/), every
/// network config found in tests/ and conf/ (conflist plugin entries as libcni hands them over), and seeded
/// mutations of all of them. FUZZ_ITERATIONS / FUZZ_SEED run more or other mutations (`make soak` runs this
/// class, its name matches "Fuzz").
/// </summary>
public class NetConfReaderDifferentialFuzzTests(ITestOutputHelper output)
{
    private static int Iterations(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("FUZZ_ITERATIONS"), out int n) && n > 0 ? n : fallback;

    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), out int s) ? s : 20240611;

    /// <summary>What a reader made of an input, in one comparable text.</summary>
    private static string Outcome(Func<byte[], NetConf> parse, byte[] input)
    {
        try { return "bound\n" + NetConfDump.Of(parse(input)); }
        catch (CniException e) { return "error " + e.Code + "\nmsg: " + e.Message + "\ndetails: " + e.Details; }
        catch (Exception e) { return "exception " + e.GetType().FullName + ": " + e.Message; }
    }

    /// <summary>Fails unless both readers give the same outcome; returns it.</summary>
    private static string AssertSame(byte[] input, string what)
    {
        string expected = Outcome(Oracle.OracleNetConfReader.Parse, input);
        string actual = Outcome(NetConfReader.Parse, input);
        if (expected != actual)
            throw new Xunit.Sdk.XunitException($"{what}: the readers differ\ninput ({input.Length} bytes): {Show(input)}\n" +
                $"--- System.Text.Json reader (oracle):\n{expected}\n--- NetConfReader:\n{actual}");
        return actual;
    }

    private static string Show(byte[] input) =>
        input.Length > 2000 ? Encoding.UTF8.GetString(input, 0, 2000) + "…" : Encoding.UTF8.GetString(input) + "  hex:" + Convert.ToHexString(input);

    // ---- inputs ----

    private static string Repo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, "tests", "corpus")) && Directory.Exists(Path.Combine(dir.FullName, "conf")))
                return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    /// <summary>Every corpus case's stdin, as tests/integration/80-bad-input.bats feeds it (placeholders replaced).
    /// Generated once per test run (generate.sh runs jq per case).</summary>
    internal static List<(string Name, byte[] Stdin)> CorpusCases() => Corpus.Value;

    private static readonly Lazy<List<(string Name, byte[] Stdin)>> Corpus = new(GenerateCorpus);

    private static List<(string Name, byte[] Stdin)> GenerateCorpus()
    {
        string repo = Repo();
        string generated = Path.Combine(Path.GetTempPath(), "cniveth-corpus-" + Environment.ProcessId);
        try
        {
            var psi = new ProcessStartInfo("bash", [Path.Combine(repo, "tests", "corpus", "generate.sh"), generated])
                { RedirectStandardOutput = true, RedirectStandardError = true };
            using (var p = Process.Start(psi)!)
            {
                string err = p.StandardError.ReadToEnd();
                p.StandardOutput.ReadToEnd();
                p.WaitForExit();
                if (p.ExitCode != 0) throw new InvalidOperationException("tests/corpus/generate.sh failed (jq installed?): " + err);
            }
            var cases = new List<(string, byte[])>();
            foreach (string file in Directory.GetFiles(generated, "*.case").Concat(Directory.GetFiles(Path.Combine(repo, "tests", "corpus", "hand"), "*.case")).Order(StringComparer.Ordinal))
                cases.Add((Path.GetFileNameWithoutExtension(file), CaseStdin(File.ReadAllBytes(file))));
            return cases;
        }
        finally
        {
            if (Directory.Exists(generated)) Directory.Delete(generated, recursive: true);
        }
    }

    private static byte[] CaseStdin(byte[] file)
    {
        int sep = file.AsSpan().IndexOf("\n--\n"u8);
        byte[] stdin = sep < 0 ? [] : file[(sep + 4)..];
        if (stdin.Length > 0 && stdin[^1] == '\n') stdin = stdin[..^1]; // the runner's `head -c -1`
        string[] placeholders = ["@DATADIR", "@NETNS", "@OWNNS", "@FILE", "@FIFO", "@DIR", "@MISSING", "@SYMDIR", "@TMP"];
        foreach (string p in placeholders)
            stdin = Replace(stdin, Encoding.ASCII.GetBytes(p), Encoding.ASCII.GetBytes("/tmp/corpus/" + p[1..].ToLowerInvariant()));
        return stdin;
    }

    private static byte[] Replace(byte[] data, byte[] what, byte[] with)
    {
        int at = data.AsSpan().IndexOf(what);
        if (at < 0) return data;
        var result = new List<byte>(data.Length);
        int from = 0;
        for (; at >= 0; at = data.AsSpan(from).IndexOf(what) is int i and >= 0 ? from + i : -1)
        {
            result.AddRange(data[from..at]);
            result.AddRange(with);
            from = at + what.Length;
        }
        result.AddRange(data[from..]);
        return result.ToArray();
    }

    /// <summary>Network configs in the repository: each plugin of conf/*.conflist with the list's name and
    /// cniVersion (what libcni sends), and every JSON object in tests/ and conf/ with a config key at its top.</summary>
    internal static List<(string Name, byte[] Stdin)> SampleConfigs()
    {
        string repo = Repo();
        var found = new Dictionary<string, string>(StringComparer.Ordinal); // text -> where
        foreach (string file in Directory.GetFiles(Path.Combine(repo, "conf"), "*.conflist").Order(StringComparer.Ordinal))
        {
            var list = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
            int i = 0;
            foreach (JsonNode? plugin in list["plugins"]!.AsArray())
            {
                var entry = plugin!.DeepClone().AsObject();
                entry["name"] = list["name"]!.DeepClone();
                entry["cniVersion"] = list["cniVersion"]!.DeepClone();
                found.TryAdd(entry.ToJsonString(), $"{Path.GetFileName(file)} plugins[{i++}]");
            }
        }
        string[] extensions = [".bats", ".bash", ".sh", ".cs", ".json", ".conflist", ".conf", ".md", ".py"];
        foreach (string root in new[] { Path.Combine(repo, "tests"), Path.Combine(repo, "conf") })
            foreach (string file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (!extensions.Contains(Path.GetExtension(file)) || file.Contains("/bin/") || file.Contains("/obj/")) continue;
                string text = File.ReadAllText(file);
                foreach (string variant in new[] { text, text.Replace("\\\"", "\"") })
                    foreach (string json in JsonObjectsIn(variant))
                        found.TryAdd(json, Path.GetRelativePath(repo, file));
            }
        return found.Select(kv => (kv.Value, Encoding.UTF8.GetBytes(kv.Key))).ToList();
    }

    private static IEnumerable<string> JsonObjectsIn(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        for (int start = bytes.AsSpan().IndexOf((byte)'{'); start >= 0;)
        {
            int length = ObjectLength(bytes.AsSpan(start));
            if (length > 0)
            {
                string json = Encoding.UTF8.GetString(bytes, start, length);
                if (LooksLikeNetConf(json)) yield return json;
            }
            int next = bytes.AsSpan(start + 1).IndexOf((byte)'{');
            start = next < 0 ? -1 : start + 1 + next;
        }
    }

    private static int ObjectLength(ReadOnlySpan<byte> from)
    {
        try
        {
            var reader = new Utf8JsonReader(from, isFinalBlock: false, default);
            return reader.Read() && reader.TokenType == JsonTokenType.StartObject && reader.TrySkip() ? (int)reader.BytesConsumed : 0;
        }
        catch (JsonException) { return 0; }
    }

    private static bool LooksLikeNetConf(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var p in doc.RootElement.EnumerateObject())
                if (p.Name is "cniVersion" or "ipam" or "bridge" or "isGateway" or "ipMasq" or "prevResult" or "dns" or "runtimeConfig")
                    return true;
            return false;
        }
        catch (JsonException) { return false; }
    }

    // ---- mutations aimed at the binder: keys in other cases and escapes, repeated keys, every key with every type ----

    private static readonly string[] SchemaKeys =
    [
        "cniVersion", "cniVersions", "name", "type", "bridge", "isGateway", "isDefaultGateway", "forceAddress", "ipMasq",
        "ipMasqBackend", "nonMasqueradeCIDRs", "mtu", "hairpinMode", "promiscMode", "vlan", "vlanTrunk", "preserveDefaultVlan",
        "enabledad", "macspoofchk", "disableContainerInterface", "portIsolation", "ipam", "dns", "runtimeConfig", "args",
        "prevResult", "cni.dev/valid-attachments", "cni.dev/attachments", "logFile", "logLevel",
        "ranges", "subnet", "rangeStart", "rangeEnd", "gateway", "routes", "dataDir", "resolvConf",
        "dst", "gw", "advmss", "priority", "table", "scope", "minID", "maxID", "id",
        "nameservers", "domain", "search", "options", "ips", "mac", "ipRanges", "cni",
    ];

    private static readonly string[] Values =
    [
        "null", "true", "false", "0", "-1", "2147483648", "1e3", "1.0", "\"\"", "\"x\"", "\"\\ud800\"", "[]", "[null]", "[1]",
        "[\"a\",null]", "[[]]", "[[null]]", "[[{}]]", "[[{\"subnet\":1}]]", "[{}]", "[{\"id\":\"1\"}]", "{}", "{\"type\":1}",
        "{\"cni\":{\"ips\":[1]}}", "{\"cni\":null}", "{\"nameservers\":\"x\"}", "{\"ipRanges\":[[{\"gateway\":[]}]]}",
        "{\"ranges\":[[{\"subnet\":\"10.0.0.0/8\"}]],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"mtu\":null,\"table\":\"1\"}]}",
    ];

    private static byte[] MutateKeys(Random rng, byte[] input)
    {
        string text = Encoding.UTF8.GetString(input);
        switch (rng.Next(5))
        {
            case 0: // flip the case of one letter of a key
            {
                int quote = KeyQuote(rng, text);
                if (quote < 0) break;
                int end = text.IndexOf('"', quote + 1);
                int at = quote + 1 + rng.Next(Math.Max(1, end - quote - 1));
                if (at < text.Length && char.IsAsciiLetter(text[at]))
                    text = text[..at] + (char.IsAsciiLetterUpper(text[at]) ? char.ToLowerInvariant(text[at]) : char.ToUpperInvariant(text[at])) + text[(at + 1)..];
                break;
            }
            case 1: // write one character of a key as an escape (sometimes a broken one)
            {
                int quote = KeyQuote(rng, text);
                if (quote < 0 || quote + 1 >= text.Length || text[quote + 1] == '"') break;
                string escape = rng.Next(6) == 0 ? "\\udc00" : "\\u" + ((int)text[quote + 1]).ToString("x4");
                text = text[..(quote + 1)] + escape + text[(quote + 2)..];
                break;
            }
            case 2: // repeat a member elsewhere, or a key with another value
            {
                int brace = text.IndexOf('{', rng.Next(Math.Max(1, text.Length)));
                if (brace < 0) break;
                string member = "\"" + SchemaKeys[rng.Next(SchemaKeys.Length)] + "\":" + Values[rng.Next(Values.Length)];
                text = text[..(brace + 1)] + member + (text.Length > brace + 1 && text[brace + 1] != '}' ? "," : "") + text[(brace + 1)..];
                break;
            }
            case 3: // append a member at the end of an object
            {
                int close = text.Length == 0 ? -1 : text.LastIndexOf('}', rng.Next(text.Length));
                if (close <= 0) break;
                string key = SchemaKeys[rng.Next(SchemaKeys.Length)];
                if (rng.Next(3) == 0) key = key.ToUpperInvariant();
                text = text[..close] + ",\"" + key + "\":" + Values[rng.Next(Values.Length)] + text[close..];
                break;
            }
            default: // a non-ASCII key that folds like an ASCII one in some cultures
                text = text.Replace("\"ipam\"", rng.Next(2) == 0 ? "\"ıpam\"" : "\"İPAM\"").Replace("\"subnet\"", "\"ſubnet\"");
                break;
        }
        return Encoding.UTF8.GetBytes(text);
    }

    private static int KeyQuote(Random rng, string text)
    {
        int colon = text.IndexOf("\":", rng.Next(Math.Max(1, text.Length)), StringComparison.Ordinal);
        return colon <= 0 ? -1 : text.LastIndexOf('"', colon - 1);
    }

    /// <summary>The kind of an outcome, to show what the mutations reached.</summary>
    private static string Kind(string outcome)
    {
        if (outcome.StartsWith("bound", StringComparison.Ordinal)) return "bound";
        if (outcome.Contains("invalid JSON: The maximum configured depth", StringComparison.Ordinal)) return "error: depth";
        if (outcome.Contains("invalid JSON:", StringComparison.Ordinal)) return "error: syntax";
        if (outcome.Contains("got null", StringComparison.Ordinal)) return "error: null stdin";
        if (outcome.Contains("stdin must be", StringComparison.Ordinal)) return "error: stdin not an object (or a key it cannot unescape)";
        int at = outcome.IndexOf("expected ", StringComparison.Ordinal);
        string expected = at < 0 ? "?" : outcome[(at + 9)..outcome.IndexOf('\n', at)];
        return (outcome.EndsWith("details: ", StringComparison.Ordinal) ? "error: in a section, expected " : "error: expected ") + expected;
    }

    // ---- tests ----

    [Fact]
    public void EveryCorpusCaseReadsTheSame()
    {
        var cases = CorpusCases();
        Assert.True(cases.Count >= 200, $"only {cases.Count} corpus cases");
        foreach (var (name, stdin) in cases) AssertSame(stdin, "corpus case " + name);
        output.WriteLine($"{cases.Count} corpus cases");
    }

    [Fact]
    public void EverySampleConfigReadsTheSame()
    {
        var configs = SampleConfigs();
        Assert.True(configs.Count >= 50, $"only {configs.Count} sample configs found");
        int bound = 0;
        foreach (var (where, stdin) in configs)
        {
            if (AssertSame(stdin, "sample config from " + where).StartsWith("bound", StringComparison.Ordinal)) bound++;
        }
        output.WriteLine($"{configs.Count} sample configs, {bound} of them bound without error");
    }

    [Fact]
    public void MutatedInputsReadTheSame()
    {
        var seeds = CorpusCases().Concat(SampleConfigs()).Select(c => c.Stdin).Where(s => s.Length < 100_000).ToList();
        var rng = new Random(Seed);
        int iterations = Iterations(30_000);
        var kinds = new Dictionary<string, int>(StringComparer.Ordinal);
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            byte[] input = seeds[rng.Next(seeds.Count)];
            int rounds = 1 + rng.Next(3);
            for (int m = 0; m < rounds; m++)
                input = rng.Next(2) == 0 ? MutationFuzzTests.Mutate(rng, input) : MutateKeys(rng, input);
            string kind = Kind(AssertSame(input, $"seed {Seed} iteration {i}"));
            kinds[kind] = kinds.GetValueOrDefault(kind) + 1;
        }
        output.WriteLine($"{iterations} mutations from {seeds.Count} seeds (seed {Seed}), {watch.Elapsed.TotalSeconds:F1} s:");
        foreach (var (kind, count) in kinds.OrderByDescending(k => k.Value)) output.WriteLine($"  {count,8}  {kind}");
    }
}
