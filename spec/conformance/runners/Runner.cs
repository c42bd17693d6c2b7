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
using System.Text;
using System.Threading;
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

    static class Program
    {
        static string KindOf(Exception err)
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
