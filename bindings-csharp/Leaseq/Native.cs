using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;
using Leaseq.Native;

namespace Leaseq
{
    /// <summary>A native call that writes a <see cref="LeaseqValue"/> (or an error).</summary>
    internal unsafe delegate uint ValueCall(LeaseqValue* value, LeaseqError** error);

    /// <summary>Marshalling shared by every call: UTF-8, errors, and keeping a handle alive for a call.</summary>
    internal static unsafe class Interop
    {
        // Strict: a string with a lone surrogate has no UTF-8 form, and must not become U+FFFD silently.
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);
        // For text leaseq only records (a handler's exception message): U+FFFD rather than a failure.
        static readonly UTF8Encoding Lenient = new UTF8Encoding(false, false);
        static readonly DateTimeOffset UnixEpoch = new DateTimeOffset(1970, 1, 1, 0, 0, 0, TimeSpan.Zero);

        internal static byte[] Encode(string value, string what)
        {
            try
            {
                return Utf8.GetBytes(value);
            }
            catch (EncoderFallbackException)
            {
                throw new LeaseqArgumentException(what + " is not valid UTF-16, so it has no UTF-8 form");
            }
        }

        internal static byte[] EncodeLeniently(string value)
        {
            return Lenient.GetBytes(value);
        }

        internal static string Decode(byte* bytes, UIntPtr length)
        {
            return length == UIntPtr.Zero ? string.Empty : Utf8.GetString(bytes, checked((int)length.ToUInt64()));
        }

        internal static byte[] Copy(byte* bytes, UIntPtr length)
        {
            var copy = new byte[checked((int)length.ToUInt64())];
            if (copy.Length > 0)
            {
                Marshal.Copy((IntPtr)bytes, copy, 0, copy.Length);
            }
            return copy;
        }

        internal static UIntPtr Length(byte[] bytes)
        {
            return (UIntPtr)(uint)bytes.Length;
        }

        /// <summary>The exception for a failed call; frees the native error.</summary>
        internal static Exception Error(uint code, LeaseqError* error)
        {
            string message = "leaseq error " + code;
            if (error != null)
            {
                message = Decode(error->message, error->message_len);
                NativeMethods.leaseq_error_free(error);
            }
            return Errors.FromKind(code, message);
        }

        /// <summary>Throws the exception for a failed call (code not 0); frees the native error.</summary>
        internal static void Check(uint code, LeaseqError* error)
        {
            if (code != 0)
            {
                throw Error(code, error);
            }
        }

        internal static Item ItemFrom(LeaseqItem* item)
        {
            return new Item(Copy(item->data, item->data_len), Decode(item->id, item->id_len), Copy(item->id, item->id_len), checked((int)item->attempts),
                checked((long)item->fence));
        }

        internal static DeadItem DeadItemFrom(LeaseqDeadItem* dead)
        {
            return new DeadItem(ItemFrom(&dead->item), Decode(dead->error, dead->error_len), Time(dead->died_at_unix_ms));
        }

        /// <summary>The value's list (<c>count</c> entries), each read by <paramref name="at"/>.</summary>
        internal static List<T> ListFrom<T>(LeaseqValue* value, Func<int, T> at)
        {
            var length = checked((int)value->count.ToUInt64());
            var list = new List<T>(length);
            for (int i = 0; i < length; i++)
            {
                list.Add(at(i));
            }
            return list;
        }

        /// <summary>Runs a native call that writes a value, reads the value, frees it.</summary>
        internal static T ReadValue<T>(Reader<T> reader, ValueCall call)
        {
            var value = default(LeaseqValue);
            LeaseqError* error = null;
            Check(call(&value, &error), error);
            try
            {
                return reader(&value);
            }
            finally
            {
                NativeMethods.leaseq_value_free(&value);
            }
        }

        /// <summary>Seconds, as the native side takes durations (the core checks them).</summary>
        internal static double Seconds(TimeSpan span)
        {
            return span.TotalSeconds;
        }

        /// <summary>Seconds from the native side as a TimeSpan, to the tick (TimeSpan.FromSeconds rounds to
        /// the millisecond on Mono and .NET Framework).</summary>
        internal static TimeSpan Span(double seconds)
        {
            return TimeSpan.FromTicks(checked((long)Math.Round(seconds * TimeSpan.TicksPerSecond)));
        }

        /// <summary>A flag of a native struct: flags are bytes there, since .NET Core refuses pointers to structs with a bool.</summary>
        internal static byte Flag(bool value)
        {
            return value ? (byte)1 : (byte)0;
        }

        internal static DateTimeOffset Time(long unixMilliseconds)
        {
            return UnixEpoch.AddMilliseconds(unixMilliseconds);
        }

        internal static long UnixMilliseconds(DateTimeOffset time)
        {
            // Floor, not truncation toward the epoch: the core sees the same millisecond before 1970 too.
            var ticks = (time.UtcTicks - UnixEpoch.UtcTicks);
            var millis = ticks / TimeSpan.TicksPerMillisecond;
            return ticks % TimeSpan.TicksPerMillisecond < 0 ? millis - 1 : millis;
        }
    }

    /// <summary>
    /// Keeps a <see cref="SafeHandle"/> from being released while a native call uses its pointer
    /// (a finalizer or a Dispose on another thread waits for the call). Use with <c>using</c>.
    /// </summary>
    internal struct HandleUse : IDisposable
    {
        readonly SafeHandle handle;
        readonly bool added;

        internal HandleUse(SafeHandle handle)
        {
            this.handle = handle;
            added = false;
            // Throws ObjectDisposedException once the handle is disposed.
            handle.DangerousAddRef(ref added);
        }

        internal IntPtr Pointer
        {
            get { return handle.DangerousGetHandle(); }
        }

        public void Dispose()
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>A native connection handle; releasing it frees the handle (see <c>leaseq_connection_free</c>).</summary>
    internal sealed unsafe class ConnectionHandle : SafeHandle
    {
        internal ConnectionHandle(IntPtr pointer) : base(IntPtr.Zero, true)
        {
            SetHandle(pointer);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.leaseq_connection_free((LeaseqConnection*)handle);
            return true;
        }
    }

    /// <summary>A native worker handle; releasing it frees the handle (see <c>leaseq_worker_free</c>).</summary>
    internal sealed unsafe class WorkerHandle : SafeHandle
    {
        internal WorkerHandle(IntPtr pointer) : base(IntPtr.Zero, true)
        {
            SetHandle(pointer);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.leaseq_worker_free((LeaseqWorker*)handle);
            return true;
        }
    }

    /// <summary>A native queue handle; releasing it frees the handle (see <c>leaseq_queue_free</c>).</summary>
    internal sealed unsafe class QueueHandle : SafeHandle
    {
        internal QueueHandle(IntPtr pointer) : base(IntPtr.Zero, true)
        {
            SetHandle(pointer);
        }

        public override bool IsInvalid
        {
            get { return handle == IntPtr.Zero; }
        }

        protected override bool ReleaseHandle()
        {
            NativeMethods.leaseq_queue_free((LeaseqQueue*)handle);
            return true;
        }
    }
}
