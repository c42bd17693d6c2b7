// A child process for ProcessTests (compiled by the test with mcs, not part of Leaseq.Tests.dll):
//   mono WorkerChild.exe URL PREFIX exit      Main returns while a worker runs with an item in flight
//   mono WorkerChild.exe URL PREFIX sigterm   the README's Mono wiring: SIGTERM/SIGINT -> worker.Stop()
// Prints "in flight" once the handler runs, then, for sigterm, "stopped" once the run has ended.
using System;
using System.Threading;
using System.Threading.Tasks;
using Leaseq;
using Mono.Unix;
using Mono.Unix.Native;

public static class WorkerChild
{
    public static int Main(string[] args)
    {
        var connection = Connection.Open(args[0]);
        var queue = new WorkQueue(connection, args[1]);
        var started = new ManualResetEventSlim();
        var worker = new Worker(queue, async (item, token) =>
        {
            started.Set();
            await Task.Delay(Timeout.Infinite, token);
        }, new WorkerOptions { ShutdownTimeout = TimeSpan.FromMilliseconds(100), CleanEvery = null });
        var run = worker.RunAsync();
        if (args[2] == "sigterm")
        {
            var signals = new[] { new UnixSignal(Signum.SIGTERM), new UnixSignal(Signum.SIGINT) };
            new Thread(() =>
            {
                UnixSignal.WaitAny(signals);
                worker.Stop();
            }) { IsBackground = true }.Start();
        }
        started.Wait();
        Console.WriteLine("in flight");
        if (args[2] == "exit")
        {
            return 0;
        }
        run.Wait();
        Console.WriteLine("stopped");
        return 0;
    }
}
