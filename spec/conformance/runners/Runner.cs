// The C# runner of the conformance cases in spec/conformance/: drives Leaseq.dll's public API only.
//   Runner.exe           the blocking methods (AddItem, Lease, …)
//   Runner.exe --async   the …Async methods, each awaited to its end
//
// driver.py compiles it (mcs -langversion:7.2 against bindings-csharp/out/Leaseq.dll), starts it
// once and sends one case per line on stdin:
// {"case": name, "url": redis_url, "prefix": p, "queue_options"?: {...}, "steps": [{"op", "args", "queue"?}, ...]}.
// It runs the steps and answers with one line,
// {"results": [{"ok": value} | {"error": kind, "message": text}, ...]}, each result with the
// step's wall time in "ms". The driver does the setup and checks the results and the keys.
// The items the case's lease steps returned are kept, in order: renew, complete, fail and release
// with "delivery": k act on the k-th (from 1), so its fence travels; without it, on an item made
// from "id" alone (fence 0).
using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using System.Web.Script.Serialization;
using Leaseq;

namespace LeaseqConformance
{
    /// <summary>A case this runner cannot read; reported as kind "Harness", which no case expects.</summary>
    sealed class HarnessException : Exception
    {
        public HarnessException(string message) : base(message) { }
    }

    /// <summary>
    /// The handles one case acts through: "main" and any other name ("second", ...) is a WorkQueue
    /// of its own (its own session) on the case's prefix, made on first use, unless a new_queue step
    /// registered that name for another prefix. Every queue is made with the case's queue_options.
    /// </summary>
    sealed class CaseRun : IDisposable
    {
        /// <summary>True to call the …Async methods instead of the blocking ones.</summary>
        public static bool UseAsync;

        static readonly DateTimeOffset UnixEpoch = new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);

        readonly Connection connection;
        readonly string prefix;
        readonly QueueOptions options;
        readonly Dictionary<string, WorkQueue> queues = new Dictionary<string, WorkQueue>();
        readonly List<IDisposable> owned = new List<IDisposable>();
        /// <summary>Every item a lease step returned, in order: "delivery": k names the k-th.</summary>
        readonly List<Item> deliveries = new List<Item>();

        public CaseRun(Connection connection, string prefix, QueueOptions options)
        {
            this.connection = connection;
            this.prefix = prefix;
            this.options = options;
        }

        /// <summary>The case's queue_options (each optional, milliseconds for durations); the defaults otherwise.</summary>
        public static QueueOptions Options(Dictionary<string, object> line)
        {
            var options = new QueueOptions();
            object value;
            if (!line.TryGetValue("queue_options", out value) || value == null)
            {
                return options;
            }
            var given = (Dictionary<string, object>)value;
            if (given.ContainsKey("max_attempts"))
            {
                options.MaxAttempts = Convert.ToInt32(Number(given, "max_attempts"), CultureInfo.InvariantCulture);
            }
            if (given.ContainsKey("backoff_base_ms"))
            {
                options.BackoffBase = Span(Number(given, "backoff_base_ms"));
            }
            if (given.ContainsKey("backoff_max_ms"))
            {
                options.BackoffMax = Span(Number(given, "backoff_max_ms"));
            }
            if (given.ContainsKey("unique_window_ms"))
            {
                options.UniqueWindow = Span(Number(given, "unique_window_ms"));
            }
            if (given.ContainsKey("clean_grace_ms"))
            {
                options.CleanGrace = Span(Number(given, "clean_grace_ms"));
            }
            if (given.ContainsKey("wait_replicas"))
            {
                options.WaitReplicas = Convert.ToInt32(Number(given, "wait_replicas"), CultureInfo.InvariantCulture);
            }
            if (given.ContainsKey("wait_timeout_ms"))
            {
                options.WaitTimeout = Span(Number(given, "wait_timeout_ms"));
            }
            if (given.ContainsKey("fencing"))
            {
                options.Fencing = true.Equals(given["fencing"]);
            }
            var unknown = given.Keys.Except(KnownOptions).OrderBy(name => name, StringComparer.Ordinal).ToList();
            if (unknown.Count > 0)
            {
                throw new HarnessException("unknown queue options " + string.Join(", ", unknown));
            }
            return options;
        }

        static readonly string[] KnownOptions =
        {
            "max_attempts", "backoff_base_ms", "backoff_max_ms", "unique_window_ms",
            "clean_grace_ms", "wait_replicas", "wait_timeout_ms", "fencing",
        };

        /// <summary>
        /// The item renew, complete, fail and release act on: the k-th leased item for "delivery": k (its fence
        /// travels), else one made from the id alone (fence 0; the data an item carries plays no part in these calls).
        /// </summary>
        Item LeasedItem(Dictionary<string, object> args)
        {
            if (!Given(args, "delivery"))
            {
                return new Item(new byte[0], Text(args, "id"));
            }
            var k = Number(args, "delivery");
            if (k != Math.Floor(k) || k < 1 || k > deliveries.Count)
            {
                throw new HarnessException("delivery " + k.ToString(CultureInfo.InvariantCulture) + ": this case has " + deliveries.Count + " so far");
            }
            return deliveries[(int)k - 1];
        }

        WorkQueue Queue(string name)
        {
            WorkQueue queue;
            if (!queues.TryGetValue(name, out queue))
            {
                queue = new WorkQueue(connection, prefix, options);
                owned.Add(queue);
                queues[name] = queue;
            }
            return queue;
        }

        public object Step(Dictionary<string, object> step)
        {
            var op = (string)step["op"];
            var args = step.ContainsKey("args") && step["args"] != null
                ? (Dictionary<string, object>)step["args"]
                : new Dictionary<string, object>();
            switch (op)
            {
                case "sleep":
                    Thread.Sleep((int)Number(args, "ms"));
                    return null;
                case "new_queue":
                {
                    var made = new WorkQueue(connection, Text(args, "name"), options);
                    owned.Add(made);
                    if (args.ContainsKey("as"))
                    {
                        queues[Text(args, "as")] = made;
                    }
                    return null;
                }
                case "open":
                    using (var opened = Open(Text(args, "url")))
                    {
                        opened.Close();
                    }
                    return null;
                case "close":
                    connection.Close();
                    return null;
            }
            var queue = Queue(step.ContainsKey("queue") ? (string)step["queue"] : "main");
            switch (op)
            {
                case "add_item":
                {
                    var item = MakeItem(args);
                    return UseAsync ? Wait(queue.AddItemAsync(item)) : queue.AddItem(item);
                }
                case "add_unique_item":
                {
                    var item = MakeItem(args);
                    if (UseAsync)
                    {
                        queue.AddUniqueItemAsync(item).GetAwaiter().GetResult();
                    }
                    else
                    {
                        queue.AddUniqueItem(item);
                    }
                    return null;
                }
                case "add_items":
                {
                    var items = ((object[])args["items"]).Select(entry => MakeItem((Dictionary<string, object>)entry)).ToList();
                    return UseAsync ? Wait(queue.AddItemsAsync(items)) : queue.AddItems(items);
                }
                case "lease":
                {
                    TimeSpan? timeout = null;
                    if (args.ContainsKey("timeout_ms") && args["timeout_ms"] != null)
                    {
                        timeout = Span(Number(args, "timeout_ms"));
                    }
                    var block = args.ContainsKey("block") && (bool)args["block"];
                    var lease = Span(Number(args, "lease_ms"));
                    var withAttempts = args.ContainsKey("with_attempts") && true.Equals(args["with_attempts"]);
                    var withFence = args.ContainsKey("with_fence") && true.Equals(args["with_fence"]);
                    var leased = UseAsync ? Wait(queue.LeaseAsync(lease, block, timeout)) : queue.Lease(lease, block, timeout);
                    if (leased != null)
                    {
                        deliveries.Add(leased);
                    }
                    return ItemJson(leased, withAttempts, withFence);
                }
                case "lease_many":
                {
                    TimeSpan? timeout = null;
                    if (args.ContainsKey("timeout_ms") && args["timeout_ms"] != null)
                    {
                        timeout = Span(Number(args, "timeout_ms"));
                    }
                    var block = args.ContainsKey("block") && (bool)args["block"];
                    var lease = Span(Number(args, "lease_ms"));
                    var count = Convert.ToInt32(args["count"], CultureInfo.InvariantCulture);
                    var withAttempts = args.ContainsKey("with_attempts") && true.Equals(args["with_attempts"]);
                    var withFence = args.ContainsKey("with_fence") && true.Equals(args["with_fence"]);
                    var items = UseAsync ? Wait(queue.LeaseManyAsync(lease, count, block, timeout)) : queue.LeaseMany(lease, count, block, timeout);
                    deliveries.AddRange(items);
                    return items.Select(item => ItemJson(item, withAttempts, withFence)).ToList();
                }
                case "complete_and_lease":
                {
                    var item = LeasedItem(args);
                    var lease = Span(Number(args, "lease_ms"));
                    var count = Convert.ToInt32(args["count"], CultureInfo.InvariantCulture);
                    var withAttempts = args.ContainsKey("with_attempts") && true.Equals(args["with_attempts"]);
                    var withFence = args.ContainsKey("with_fence") && true.Equals(args["with_fence"]);
                    var result = UseAsync ? Wait(queue.CompleteAndLeaseAsync(item, lease, count)) : queue.CompleteAndLease(item, lease, count);
                    deliveries.AddRange(result.Leased);
                    return new Dictionary<string, object>
                    {
                        { "completed", result.Completed },
                        { "leased", result.Leased.Select(leased => ItemJson(leased, withAttempts, withFence)).ToList() },
                    };
                }
                case "complete_many":
                {
                    // An entry is an id (an item made from it alone) or a delivery number.
                    var items = ((object[])args["items"]).Select(entry => entry is string
                        ? LeasedItem(new Dictionary<string, object> { { "id", entry } })
                        : LeasedItem(new Dictionary<string, object> { { "delivery", entry } })).ToList();
                    return UseAsync ? Wait(queue.CompleteManyAsync(items)) : queue.CompleteMany(items);
                }
                case "renew":
                {
                    var item = LeasedItem(args);
                    var lease = Span(Number(args, "lease_ms"));
                    return UseAsync ? Wait(queue.RenewAsync(item, lease)) : queue.Renew(item, lease);
                }
                case "complete":
                {
                    var item = LeasedItem(args);
                    return UseAsync ? Wait(queue.CompleteAsync(item)) : queue.Complete(item);
                }
                case "light_clean":
                    return ReportJson(UseAsync ? Wait(queue.LightCleanAsync()) : queue.LightClean());
                case "deep_clean":
                    return ReportJson(UseAsync ? Wait(queue.DeepCleanAsync()) : queue.DeepClean());
                case "queue_len":
                    return UseAsync ? Wait(queue.QueueLengthAsync()) : queue.QueueLength();
                case "processing":
                    return UseAsync ? Wait(queue.ProcessingAsync()) : queue.Processing();
                case "add_item_with":
                {
                    var item = MakeItem(args);
                    var add = new AddOptions();
                    if (Given(args, "priority"))
                    {
                        add.Priority = Convert.ToInt32(Number(args, "priority"), CultureInfo.InvariantCulture);
                    }
                    if (Given(args, "delay_ms"))
                    {
                        add.Delay = Span(Number(args, "delay_ms"));
                    }
                    if (Given(args, "at_ms"))
                    {
                        add.At = UnixEpoch.AddTicks((long)Math.Round(Number(args, "at_ms") * TimeSpan.TicksPerMillisecond));
                    }
                    return UseAsync ? Wait(queue.AddItemWithAsync(item, add)) : queue.AddItemWith(item, add);
                }
                case "fail":
                {
                    var item = LeasedItem(args);
                    var error = Text(args, "error");
                    TimeSpan? retryAfter = null;
                    if (Given(args, "retry_after_ms"))
                    {
                        retryAfter = Span(Number(args, "retry_after_ms"));
                    }
                    var outcome = UseAsync ? Wait(queue.FailAsync(item, error, retryAfter)) : queue.Fail(item, error, retryAfter);
                    switch (outcome.Kind)
                    {
                        case FailOutcomeKind.Retry:
                            return "retry";
                        case FailOutcomeKind.Dead:
                            return "dead";
                        default:
                            return "gone";
                    }
                }
                case "release":
                {
                    var item = LeasedItem(args);
                    return UseAsync ? Wait(queue.ReleaseAsync(item)) : queue.Release(item);
                }
                case "dead_len":
                    return UseAsync ? Wait(queue.DeadLengthAsync()) : queue.DeadLength();
                case "dead_items":
                {
                    var offset = (long)Number(args, "offset");
                    var count = (long)Number(args, "count");
                    var page = UseAsync ? Wait(queue.DeadItemsAsync(offset, count)) : queue.DeadItems(offset, count);
                    return page.Select(dead => (object)new Dictionary<string, object>
                    {
                        { "id", dead.Item.Id },
                        { "data", Encoding.UTF8.GetString(dead.Item.Data) },
                        { "attempts", dead.Item.Attempts },
                        { "error", dead.Error },
                    }).ToList();
                }
                case "requeue_dead":
                {
                    var ids = Ids(args);
                    return UseAsync ? Wait(queue.RequeueDeadAsync(ids)) : queue.RequeueDead(ids);
                }
                case "purge_dead":
                {
                    var ids = Ids(args);
                    return UseAsync ? Wait(queue.PurgeDeadAsync(ids)) : queue.PurgeDead(ids);
                }
                case "requeue_all_dead":
                    return UseAsync ? Wait(queue.RequeueAllDeadAsync()) : queue.RequeueAllDead();
                case "purge_all_dead":
                    return UseAsync ? Wait(queue.PurgeAllDeadAsync()) : queue.PurgeAllDead();
                case "pause":
                    if (UseAsync)
                    {
                        queue.PauseAsync().GetAwaiter().GetResult();
                    }
                    else
                    {
                        queue.Pause();
                    }
                    return null;
                case "resume":
                    return UseAsync ? Wait(queue.ResumeAsync()) : queue.Resume();
                case "is_paused":
                    return UseAsync ? Wait(queue.IsPausedAsync()) : queue.IsPaused();
                case "prioritized_len":
                    return UseAsync ? Wait(queue.PrioritizedLengthAsync()) : queue.PrioritizedLength();
                case "delayed_len":
                    return UseAsync ? Wait(queue.DelayedLengthAsync()) : queue.DelayedLength();
                case "run_worker":
                    return new WorkerRun(args).Run(queue);
                default:
                    throw new HarnessException("unknown op " + op);
            }
        }

        static bool Given(Dictionary<string, object> args, string name)
        {
            return args.ContainsKey(name) && args[name] != null;
        }

        static List<string> Ids(Dictionary<string, object> args)
        {
            object value;
            if (!args.TryGetValue("ids", out value) || !(value is object[]) || !((object[])value).All(id => id is string))
            {
                throw new HarnessException("args.ids must be an array of strings");
            }
            return ((object[])value).Cast<string>().ToList();
        }

        public static Connection Open(string url)
        {
            return UseAsync ? Wait(Connection.OpenAsync(url)) : Connection.Open(url);
        }

        /// <summary>The task's result, or the exception it failed with (not an AggregateException).</summary>
        static T Wait<T>(System.Threading.Tasks.Task<T> task)
        {
            return task.GetAwaiter().GetResult();
        }

        /// <summary>Milliseconds as a TimeSpan, to the tick; a negative value stays negative, so the
        /// binding (not the runner) must refuse it.</summary>
        static TimeSpan Span(double millis)
        {
            return TimeSpan.FromTicks((long)Math.Round(millis * TimeSpan.TicksPerMillisecond));
        }

        static Item MakeItem(Dictionary<string, object> args)
        {
            var data = Encoding.UTF8.GetBytes(Text(args, "data"));
            return args.ContainsKey("id") && args["id"] != null ? new Item(data, Text(args, "id")) : new Item(data);
        }

        static object ItemJson(Item item, bool withAttempts, bool withFence)
        {
            if (item == null)
            {
                return null;
            }
            var json = new Dictionary<string, object> { { "id", item.Id }, { "data", Encoding.UTF8.GetString(item.Data) } };
            if (withAttempts)
            {
                json["attempts"] = item.Attempts;
            }
            if (withFence)
            {
                json["fence"] = item.Fence;
            }
            return json;
        }

        static object ReportJson(CleanReport report)
        {
            return new Dictionary<string, object> { { "requeued", report.Requeued }, { "dropped", report.Dropped }, { "dead", report.Dead } };
        }

        static string Text(Dictionary<string, object> args, string name)
        {
            object value;
            if (!args.TryGetValue(name, out value) || !(value is string))
            {
                throw new HarnessException("args." + name + " must be a string");
            }
            return (string)value;
        }

        static double Number(Dictionary<string, object> args, string name)
        {
            object value;
            if (!args.TryGetValue(name, out value) || value == null || value is string || value is bool)
            {
                throw new HarnessException("args." + name + " must be a number");
            }
            return Convert.ToDouble(value, CultureInfo.InvariantCulture);
        }

        public void Dispose()
        {
            foreach (var disposable in owned)
            {
                disposable.Dispose();
            }
            connection.Dispose();
        }
    }

    /// <summary>What a scripted handler throws: the item keeps its message.</summary>
    sealed class HandlerException : Exception
    {
        public HandlerException(string message) : base(message) { }
    }

    /// <summary>A scripted handler's action: sleep <c>SleepMs</c>, then throw <c>Raise</c> if given ("ok" is neither).</summary>
    sealed class WorkerAction
    {
        public int SleepMs;
        public string Raise;

        public static WorkerAction From(object value)
        {
            if ("ok".Equals(value))
            {
                return new WorkerAction();
            }
            var fields = value as Dictionary<string, object>;
            if (fields == null || fields.Keys.Any(key => key != "sleep_ms" && key != "raise"))
            {
                throw new HarnessException("an action is \"ok\" or {sleep_ms?, raise?}");
            }
            var action = new WorkerAction();
            object sleep;
            if (fields.TryGetValue("sleep_ms", out sleep))
            {
                action.SleepMs = Convert.ToInt32(sleep, CultureInfo.InvariantCulture);
            }
            object raise;
            if (fields.TryGetValue("raise", out raise))
            {
                action.Raise = (string)raise;
            }
            return action;
        }

        /// <summary>The blocking methods' flavour: a handler that does its work before it returns its task.</summary>
        public Task Blocking()
        {
            if (SleepMs > 0)
            {
                Thread.Sleep(SleepMs);
            }
            if (Raise != null)
            {
                throw new HandlerException(Raise);
            }
            return Task.FromResult(0);
        }

        /// <summary>The …Async flavour: an async handler that awaits its sleep (cancelled when the worker gives up).</summary>
        public async Task Awaited(CancellationToken token)
        {
            if (SleepMs > 0)
            {
                await Task.Delay(SleepMs, token).ConfigureAwait(false);
            }
            if (Raise != null)
            {
                throw new HandlerException(Raise);
            }
        }
    }

    /// <summary>
    /// Tells dictionary keys apart by reference: a routes dictionary with it holds an item type twice, as any
    /// <see cref="IDictionary{TKey,TValue}"/> a user passes may, so the case checks the core refuses that.
    /// </summary>
    sealed class EachEntryDistinct : IEqualityComparer<string>
    {
        public bool Equals(string a, string b)
        {
            return ReferenceEquals(a, b);
        }

        public int GetHashCode(string text)
        {
            return RuntimeHelpers.GetHashCode(text);
        }
    }

    /// <summary>One run_worker step: a Worker with a scripted handler, its after hook's outcomes and counters.</summary>
    sealed class WorkerRun
    {
        // How long a run may go at most when the case gives no stop_after_ms.
        const int DefaultStopAfterMs = 5000;
        // How long the runner waits, after a run returned, for after hooks still on their way.
        const int LateHooksMs = 1000;
        // How long a run after a stop may take before the runner calls it not returned at once.
        const int StoppedRunLimitMs = 2000;
        // How long a second run has to refuse before the runner calls it running.
        const int SecondRunWaitMs = 500;

        readonly Dictionary<string, object> args;
        readonly object gate = new object();
        readonly List<string> beforeIds = new List<string>();
        readonly List<Dictionary<string, object>> outcomes = new List<Dictionary<string, object>>();

        public WorkerRun(Dictionary<string, object> args)
        {
            this.args = args;
        }

        Func<Item, CancellationToken, Task> Handler(Func<Item, WorkerAction> actionOf)
        {
            if (CaseRun.UseAsync)
            {
                return (item, token) => actionOf(item).Awaited(token);
            }
            return (item, token) => actionOf(item).Blocking();
        }

        WorkerOptions Options()
        {
            // CleanEvery null: a light clean in the middle of a case would change its keys.
            var options = new WorkerOptions { CleanEvery = null };
            var given = args.ContainsKey("options") ? (Dictionary<string, object>)args["options"] : new Dictionary<string, object>();
            Func<string, TimeSpan> span = name => TimeSpan.FromTicks(Convert.ToInt64(given[name], CultureInfo.InvariantCulture) * TimeSpan.TicksPerMillisecond);
            if (given.ContainsKey("concurrency"))
            {
                options.Concurrency = Convert.ToInt32(given["concurrency"], CultureInfo.InvariantCulture);
            }
            if (given.ContainsKey("lease_ms"))
            {
                options.LeaseDuration = span("lease_ms");
            }
            if (given.ContainsKey("job_timeout_ms"))
            {
                options.JobTimeout = span("job_timeout_ms");
            }
            if (given.ContainsKey("shutdown_timeout_ms"))
            {
                options.ShutdownTimeout = span("shutdown_timeout_ms");
            }
            if (given.ContainsKey("clean_every_ms"))
            {
                options.CleanEvery = span("clean_every_ms");
            }
            options.Before = item =>
            {
                lock (gate)
                {
                    beforeIds.Add(item.Id);
                }
            };
            options.After = (item, outcome) =>
            {
                var record = new Dictionary<string, object> { { "id", item.Id } };
                switch (outcome.Kind)
                {
                    case JobOutcomeKind.Completed:
                        record["outcome"] = "completed";
                        record["completed"] = outcome.Completed;
                        break;
                    case JobOutcomeKind.Failed:
                        record["outcome"] = "failed";
                        record["error"] = outcome.Error;
                        break;
                    case JobOutcomeKind.Released:
                        record["outcome"] = "released";
                        break;
                    default:
                        record["outcome"] = "lease_lost";
                        break;
                }
                lock (gate)
                {
                    if (!beforeIds.Remove(item.Id))
                    {
                        record["hooks"] = "after without before";
                    }
                    outcomes.Add(record);
                }
            };
            return options;
        }

        Worker Make(WorkQueue queue)
        {
            var options = Options();
            object routes;
            if (args.TryGetValue("routes", out routes))
            {
                var byType = new Dictionary<string, Func<Item, CancellationToken, Task>>(new EachEntryDistinct());
                foreach (object[] route in (object[])routes)
                {
                    var action = WorkerAction.From(route[1]);
                    // A fresh string per entry, so a type given twice makes two entries.
                    byType.Add(new string(((string)route[0]).ToCharArray()), Handler(item => action));
                }
                return new Worker(queue, byType, options);
            }
            var byId = new Dictionary<string, WorkerAction>();
            object script;
            if (args.TryGetValue("handler", out script))
            {
                foreach (var entry in (Dictionary<string, object>)script)
                {
                    byId[entry.Key] = WorkerAction.From(entry.Value);
                }
            }
            return new Worker(queue, Handler(item =>
            {
                WorkerAction action;
                return byId.TryGetValue(item.Id, out action) || byId.TryGetValue("*", out action) ? action : new WorkerAction();
            }), options);
        }

        int Seen()
        {
            lock (gate)
            {
                return beforeIds.Count + outcomes.Count;
            }
        }

        int Outcomes()
        {
            lock (gate)
            {
                return outcomes.Count;
            }
        }

        /// <summary>Whether the task ended within <paramref name="millis"/> (failed or not).</summary>
        static bool Within(Task task, int millis)
        {
            try
            {
                return task.Wait(millis);
            }
            catch (AggregateException)
            {
                return true;
            }
        }

        public object Run(WorkQueue queue)
        {
            var until = args.ContainsKey("until") ? (Dictionary<string, object>)args["until"] : new Dictionary<string, object>();
            int? wanted = until.ContainsKey("outcomes") ? Convert.ToInt32(until["outcomes"], CultureInfo.InvariantCulture) : (int?)null;
            var stopAfter = until.ContainsKey("stop_after_ms") ? Convert.ToInt32(until["stop_after_ms"], CultureInfo.InvariantCulture) : DefaultStopAfterMs;
            var result = new Dictionary<string, object>();
            using (var worker = Make(queue))
            {
                if (true.Equals(args.ContainsKey("stop_first") ? args["stop_first"] : null))
                {
                    worker.Stop();
                    var watch = Stopwatch.StartNew();
                    var stopped = worker.RunAsync();
                    if (!Within(stopped, StoppedRunLimitMs))
                    {
                        // Not returned at once: stop it again; the time says so.
                        worker.Stop();
                    }
                    Within(stopped, Timeout.Infinite);
                    result["stopped_run_ms"] = watch.Elapsed.TotalMilliseconds;
                    stopped.GetAwaiter().GetResult();
                }
                var started = Stopwatch.StartNew();
                var first = worker.RunAsync();
                Task second = null;
                if (true.Equals(args.ContainsKey("second_run") ? args["second_run"] : null))
                {
                    // Once an item's before hook ran, the first run is surely going.
                    while (Seen() == 0 && started.ElapsedMilliseconds < stopAfter)
                    {
                        Thread.Sleep(5);
                    }
                    second = worker.RunAsync();
                    if (!Within(second, SecondRunWaitMs))
                    {
                        result["second_run"] = "running";
                    }
                    else
                    {
                        result["second_run"] = second.IsFaulted ? Program.KindOf(second.Exception.InnerException) : "ok";
                    }
                }
                while (started.ElapsedMilliseconds < stopAfter && (wanted == null || Outcomes() < wanted))
                {
                    Thread.Sleep(5);
                }
                // Stopped until every run ended: a binding that let a second run start may end the first, which
                // readies the worker to run again, while the second still goes.
                while (!first.IsCompleted || (second != null && !second.IsCompleted))
                {
                    worker.Stop();
                    Thread.Sleep(20);
                }
                first.GetAwaiter().GetResult();
                var late = Stopwatch.StartNew();
                while (wanted != null && Outcomes() < wanted && late.ElapsedMilliseconds < LateHooksMs)
                {
                    Thread.Sleep(5);
                }
                lock (gate)
                {
                    // By id; one item's outcomes stay in the order they came (OrderBy is stable).
                    result["outcomes"] = outcomes.OrderBy(record => (string)record["id"], StringComparer.Ordinal).ToList();
                }
                var counters = worker.Counters;
                result["counters"] = new Dictionary<string, object>
                {
                    { "leased", counters.Leased },
                    { "completed", counters.Completed },
                    { "failed", counters.Failed },
                    { "retried", counters.Retried },
                    { "renewed", counters.Renewed },
                    { "in_flight", counters.InFlight },
                };
            }
            return result;
        }
    }

    static class Program
    {
        internal static string KindOf(Exception err)
        {
            // Most specific first: every leaseq exception but LeaseqArgumentException is a LeaseqException.
            if (err is HarnessException) return "Harness";
            if (err is LeaseqConnectionException) return "Connection";
            if (err is LeaseqTimeoutException) return "Timeout";
            if (err is LeaseqArgumentException) return "InvalidArgument";
            if (err is LeaseLostException) return "LeaseLost";
            if (err is LeaseqException) return "Internal";
            // Not a leaseq exception: the binding broke its error contract; the driver shows the type.
            return "Unexpected " + err.GetType().FullName;
        }

        static Dictionary<string, object> RunCase(Dictionary<string, object> line)
        {
            Connection connection;
            try
            {
                connection = CaseRun.Open((string)line["url"]);
            }
            catch (Exception err)
            {
                return new Dictionary<string, object> { { "fatal", "cannot open " + line["url"] + ": " + err } };
            }
            var results = new List<object>();
            QueueOptions options;
            try
            {
                options = CaseRun.Options(line);
            }
            catch (Exception err)
            {
                connection.Dispose();
                return new Dictionary<string, object> { { "fatal", "cannot read queue_options: " + err } };
            }
            using (var run = new CaseRun(connection, (string)line["prefix"], options))
            {
                foreach (var step in (object[])line["steps"])
                {
                    var watch = Stopwatch.StartNew();
                    Dictionary<string, object> result;
                    try
                    {
                        result = new Dictionary<string, object> { { "ok", run.Step((Dictionary<string, object>)step) } };
                    }
                    catch (Exception err)
                    {
                        result = new Dictionary<string, object> { { "error", KindOf(err) }, { "message", err.Message } };
                    }
                    result["ms"] = watch.Elapsed.TotalMilliseconds;
                    results.Add(result);
                }
            }
            return new Dictionary<string, object> { { "results", results } };
        }

        static int Main(string[] arguments)
        {
            CaseRun.UseAsync = arguments.Contains("--async");
            var input = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
            var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
            var serializer = new JavaScriptSerializer { MaxJsonLength = int.MaxValue, RecursionLimit = 1000 };
            string text;
            while ((text = input.ReadLine()) != null)
            {
                if (text.Trim().Length == 0)
                {
                    continue;
                }
                Dictionary<string, object> reply;
                try
                {
                    reply = RunCase((Dictionary<string, object>)serializer.DeserializeObject(text));
                }
                catch (Exception err)
                {
                    reply = new Dictionary<string, object> { { "fatal", "cannot run the case line: " + err } };
                }
                var json = new StringBuilder();
                Json.Write(json, reply);
                output.WriteLine(json.ToString());
            }
            return 0;
        }
    }

    /// <summary>JSON out, by hand: ASCII only (everything else as \u escapes), doubles round-trip.</summary>
    static class Json
    {
        public static void Write(StringBuilder json, object value)
        {
            if (value == null)
            {
                json.Append("null");
            }
            else if (value is bool)
            {
                json.Append((bool)value ? "true" : "false");
            }
            else if (value is string)
            {
                WriteString(json, (string)value);
            }
            else if (value is double || value is float || value is decimal)
            {
                json.Append(Convert.ToDouble(value, CultureInfo.InvariantCulture).ToString("R", CultureInfo.InvariantCulture));
            }
            else if (value is int || value is long || value is uint || value is ulong)
            {
                json.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
            }
            else if (value is IDictionary<string, object>)
            {
                json.Append('{');
                var first = true;
                foreach (var entry in (IDictionary<string, object>)value)
                {
                    if (!first) json.Append(',');
                    first = false;
                    WriteString(json, entry.Key);
                    json.Append(':');
                    Write(json, entry.Value);
                }
                json.Append('}');
            }
            else if (value is IEnumerable)
            {
                json.Append('[');
                var first = true;
                foreach (var element in (IEnumerable)value)
                {
                    if (!first) json.Append(',');
                    first = false;
                    Write(json, element);
                }
                json.Append(']');
            }
            else
            {
                throw new InvalidOperationException("cannot write a " + value.GetType() + " as JSON");
            }
        }

        static void WriteString(StringBuilder json, string text)
        {
            json.Append('"');
            foreach (var ch in text)
            {
                if (ch == '"') json.Append("\\\"");
                else if (ch == '\\') json.Append("\\\\");
                else if (ch < 0x20 || ch > 0x7e) json.Append("\\u").Append(((int)ch).ToString("x4"));
                else json.Append(ch);
            }
            json.Append('"');
        }
    }
}
