using System.Diagnostics;

namespace CniVeth.UnitTests.Native;

/// <summary>
/// src/CniVeth/Native/main_thread_stack.c replaces glibc's pthread_getattr_np for the main thread in the
/// plugin image. Built here with gcc into a harness (main_thread_stack_check.c) that asks both for the stack
/// bounds: they must be equal under any stack limit, with a /proc/self/maps too big for one read and lines
/// longer than the shim's buffer, and the shim must have read the maps itself (not fallen back to glibc).
/// </summary>
public class MainThreadStackTests
{
    private static string Repo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "src", "CniVeth", "Native", "main_thread_stack.c"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }

    private static (int Exit, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    [Fact]
    public void TheShimGivesGlibcsMainThreadStackBoundsWithoutGlibcsParse()
    {
        string repo = Repo(), dir = Directory.CreateTempSubdirectory("cniveth-stack").FullName;
        try
        {
            string harness = Path.Combine(dir, "check");
            var build = Run("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-Wl,--wrap=pthread_getattr_np", "-o", harness,
                Path.Combine(repo, "tests", "CniVeth.UnitTests", "Native", "main_thread_stack_check.c"),
                Path.Combine(repo, "src", "CniVeth", "Native", "main_thread_stack.c"));
            Assert.True(build.Exit == 0, "gcc failed: " + build.Output);

            // a mapped file whose /proc/self/maps line is longer than the shim's 4 KB buffer
            string longDir = dir;
            while (longDir.Length < 3900) longDir = Path.Combine(longDir, new string('d', 200));
            Directory.CreateDirectory(longDir);
            string longFile = Path.Combine(longDir, "f");
            File.WriteAllText(longFile, "x");

            string[] limits = ["8192", "1024", "64", "$(ulimit -Hs)"];
            string[] extra = ["0", "3000", "3000 " + longFile];
            foreach (string limit in limits)
                foreach (string args in extra)
                {
                    var run = Run("bash", "-c", $"ulimit -s {limit} && exec {harness} {args}");
                    string where = $"ulimit -s {limit}, harness {args}:\n{run.Output}";
                    Assert.True(run.Exit == 0, where);
                    var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                        .ToDictionary(l => string.Join(' ', l.Split(' ')[..2]), l => l.Split(' ')[2..]);
                    // err, low and size equal; opens=1 for the shim on the main thread, 0 on another thread
                    Assert.True(lines["main glibc"][..3].SequenceEqual(lines["main shim"][..3]), where);
                    Assert.True(lines["main glibc"][0] == "err=0" && lines["main shim"][3] == "opens=1", where);
                    Assert.True(lines["thread glibc"][..3].SequenceEqual(lines["thread shim"][..3]) && lines["thread shim"][3] == "opens=0", where);
                }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
